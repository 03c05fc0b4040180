//! Administration pages (organizations, users, routes, settings) and the
//! auditor's journal. Thin: every rule is in the service layer.

use rtms_i18n::Label;
use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use rtms_domain::{FieldError, FormOfCare, Lang, OrgKind, Role};
use rtms_service::directory::admin::*;
use rtms_service::ServiceError;
use serde::Deserialize;

use super::fmt;
use super::i18n::tr;
use super::shell::{error_page, svc_call};
use super::shell::{render, Page};
use crate::session::UiUser;
use crate::AppState;

fn errors_of(e: &ServiceError, lang: Lang) -> BTreeMap<String, String> {
    match e {
        ServiceError::Invalid(list) => list
            .iter()
            .map(|f: &FieldError| {
                (
                    f.field.clone(),
                    rtms_i18n::refusal(f.code, lang).to_string(),
                )
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The text of the form's `file` field; an error when the upload could not be read.
async fn uploaded_file(multipart: &mut Multipart) -> Result<String, ()> {
    let mut text = String::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let bytes = field.bytes().await.map_err(|_| ())?;
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
            Ok(Some(_)) => {}
            Ok(None) => return Ok(text),
            Err(_) => return Err(()),
        }
    }
}

fn kinds(lang: Lang) -> Vec<(String, String)> {
    OrgKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label(lang).to_string()))
        .collect()
}

fn roles(lang: Lang) -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), r.label(lang).to_string()))
        .collect()
}

// ---- organizations ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_orgs.html")]
struct OrgsTpl {
    p: Page,
    orgs: Vec<OrgAdminView>,
    kinds: Vec<(String, String)>,
    f: OrgForm,
    editing: Option<i64>,
    errors: BTreeMap<String, String>,
    saved: bool,
}

impl OrgsTpl {
    fn err(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn kind_label(&self, kind: &str) -> String {
        OrgKind::parse(kind)
            .map(|k| k.label(self.p.lang).to_string())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    short_name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    frmo_oid: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    requires_head_approval: Option<String>,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    video_link_template: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
}

impl OrgForm {
    fn input(&self) -> OrgInput {
        OrgInput {
            name: self.name.clone(),
            short_name: self.short_name.clone(),
            kind: self.kind.clone(),
            level: self.level.trim().parse().ok(),
            frmo_oid: Some(self.frmo_oid.trim().to_string()).filter(|s| !s.is_empty()),
            time_zone: self.time_zone.trim().to_string(),
            requires_head_approval: self.requires_head_approval.is_some(),
            active: self.active.is_some(),
            video_link_template: Some(self.video_link_template.trim().to_string())
                .filter(|s| !s.is_empty()),
            address: self.address.clone(),
            phone: self.phone.clone(),
        }
    }
}

#[derive(Deserialize)]
pub struct EditQuery {
    edit: Option<i64>,
    saved: Option<String>,
}

async fn render_orgs(
    state: &AppState,
    u: &UiUser,
    f: OrgForm,
    editing: Option<i64>,
    errors: BTreeMap<String, String>,
    saved: bool,
) -> Response {
    let actor = u.actor.clone();
    let orgs = match svc_call(state, move |s| s.admin_organizations(&actor)).await {
        Ok(o) => o,
        Err(e) => return error_page(u, &e),
    };
    let p = Page::for_user(u, tr(u.lang, "admin-orgs"), "admin", 0);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        render(OrgsTpl {
            kinds: kinds(u.lang),
            p,
            orgs,
            f,
            editing,
            errors,
            saved,
        }),
    )
        .into_response()
}

pub async fn orgs(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<EditQuery>,
) -> Response {
    let mut f = OrgForm {
        time_zone: "Europe/Moscow".into(),
        kind: "mo".into(),
        level: "1".into(),
        active: Some("on".into()),
        ..Default::default()
    };
    if let Some(id) = q.edit {
        let actor = u.actor.clone();
        if let Ok(list) = svc_call(&state, move |s| s.admin_organizations(&actor)).await {
            if let Some(o) = list.into_iter().find(|o| o.id == id) {
                f = OrgForm {
                    name: o.name,
                    short_name: o.short_name,
                    kind: o.kind,
                    level: o.level.map(|l| l.to_string()).unwrap_or_default(),
                    frmo_oid: o.frmo_oid.unwrap_or_default(),
                    time_zone: o.time_zone,
                    requires_head_approval: o.requires_head_approval.then(|| "on".into()),
                    active: o.active.then(|| "on".into()),
                    video_link_template: o.video_link_template.unwrap_or_default(),
                    address: o.address,
                    phone: o.phone,
                };
            }
        }
    }
    render_orgs(&state, &u, f, q.edit, BTreeMap::new(), q.saved.is_some()).await
}

pub async fn save_org(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<EditQuery>,
    Form(f): Form<OrgForm>,
) -> Response {
    let actor = u.actor.clone();
    let input = f.input();
    let result = match q.edit {
        Some(id) => svc_call(&state, move |s| s.update_organization(&actor, id, &input)).await,
        None => {
            svc_call(&state, move |s| {
                s.create_organization(&actor, &input).map(|_| ())
            })
            .await
        }
    };
    match result {
        Ok(()) => Redirect::to("/admin/orgs?saved=1").into_response(),
        Err(e @ ServiceError::Invalid(_)) => {
            render_orgs(&state, &u, f, q.edit, errors_of(&e, u.lang), false).await
        }
        Err(e) => error_page(&u, &e),
    }
}

// ---- users --------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersTpl {
    p: Page,
    users: Vec<UserAdminView>,
    /// (when, by whom, whose, what) — the latest role changes.
    role_changes: Vec<(String, String, String, String)>,
    orgs: Vec<(String, String)>,
    roles: Vec<(String, String)>,
    f: UserForm,
    errors: BTreeMap<String, String>,
    created: Option<CreatedUser>,
    report: Vec<ImportRow>,
    import_error: String,
}

impl UsersTpl {
    fn err(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn role_label(&self, role: &Role) -> String {
        role.label(self.p.lang).to_string()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    middle_name: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organization_id: String,
    #[serde(default)]
    profiles: String,
    #[serde(default)]
    snils: String,
    #[serde(default)]
    position_code: String,
}

fn split_profiles(s: &str) -> Vec<String> {
    s.split([',', ';', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

async fn render_users(
    state: &AppState,
    u: &UiUser,
    f: UserForm,
    errors: BTreeMap<String, String>,
    created: Option<CreatedUser>,
    report: Vec<ImportRow>,
    import_error: String,
) -> Response {
    let actor = u.actor.clone();
    let loaded = svc_call(state, move |s| {
        Ok((
            s.admin_users(&actor)?,
            s.admin_organizations(&actor)?,
            s.admin_role_changes(&actor)?,
        ))
    })
    .await;
    let (users, orgs, changes) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(u, &e),
    };
    let tz = Page::for_user(u, String::new(), "", 0).tz;
    let role_changes = changes
        .into_iter()
        .map(|c| {
            let what = match c.action.as_str() {
                "role_add" => tr(u.lang, "role-change-add"),
                "role_remove" => tr(u.lang, "role-change-remove"),
                _ => tr(u.lang, "role-change-user"),
            };
            (
                fmt::datetime(c.at, tz, None, u.lang),
                c.by,
                c.user,
                format!("{what}: {}", c.details),
            )
        })
        .collect();
    let p = Page::for_user(u, tr(u.lang, "admin-users"), "admin", 0);
    let status = if errors.is_empty() && import_error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let tpl = UsersTpl {
        orgs: orgs
            .into_iter()
            .map(|o| (o.id.to_string(), o.short_name))
            .collect(),
        roles: roles(u.lang),
        p,
        users,
        role_changes,
        f,
        errors,
        created,
        report,
        import_error,
    };
    (status, render(tpl)).into_response()
}

pub async fn users(State(state): State<AppState>, u: UiUser) -> Response {
    render_users(
        &state,
        &u,
        UserForm::default(),
        BTreeMap::new(),
        None,
        vec![],
        String::new(),
    )
    .await
}

pub async fn create_user(
    State(state): State<AppState>,
    u: UiUser,
    Form(f): Form<UserForm>,
) -> Response {
    let lang = u.lang;
    let mut errors = BTreeMap::new();
    let role = Role::parse(&f.role);
    let org: Option<i64> = f.organization_id.parse().ok();
    if role.is_none() {
        errors.insert(
            "role".to_string(),
            rtms_i18n::refusal("required", lang).to_string(),
        );
    }
    if org.is_none() {
        errors.insert(
            "organization_id".to_string(),
            rtms_i18n::refusal("required", lang).to_string(),
        );
    }
    let input = UserInput {
        login: f.login.clone(),
        last_name: f.last_name.clone(),
        first_name: f.first_name.clone(),
        middle_name: f.middle_name.clone(),
        position: f.position.clone(),
        phone: f.phone.clone(),
        email: f.email.clone(),
        password: String::new(),
        snils: Some(f.snils.clone()),
        position_code: Some(f.position_code.clone()),
        roles: match (role, org) {
            (Some(role), Some(organization_id)) => vec![RoleAssignment {
                role,
                organization_id,
            }],
            _ => vec![],
        },
        profiles: split_profiles(&f.profiles),
    };
    if !errors.is_empty() {
        return render_users(&state, &u, f, errors, None, vec![], String::new()).await;
    }
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.admin_create_user(&actor, &input)).await {
        Ok(created) => {
            render_users(
                &state,
                &u,
                UserForm::default(),
                BTreeMap::new(),
                Some(created),
                vec![],
                String::new(),
            )
            .await
        }
        Err(e @ ServiceError::Invalid(_)) => {
            let mut errors = errors_of(&e, lang);
            if let Some(m) = errors.remove("roles[0]") {
                errors.insert("role".into(), m);
            }
            render_users(&state, &u, f, errors, None, vec![], String::new()).await
        }
        Err(e) => error_page(&u, &e),
    }
}

/// CSV import from an uploaded file; the report shows every row.
pub async fn import_users(
    State(state): State<AppState>,
    u: UiUser,
    mut multipart: Multipart,
) -> Response {
    let Ok(text) = uploaded_file(&mut multipart).await else {
        let failed = tr(u.lang, "admin-import-failed");
        return render_users(
            &state,
            &u,
            UserForm::default(),
            BTreeMap::new(),
            None,
            vec![],
            failed,
        )
        .await;
    };
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.admin_import_users(&actor, &text)).await {
        Ok(report) => {
            render_users(
                &state,
                &u,
                UserForm::default(),
                BTreeMap::new(),
                None,
                report,
                String::new(),
            )
            .await
        }
        Err(e) => {
            let msg = crate::error::message(&e, u.lang);
            render_users(
                &state,
                &u,
                UserForm::default(),
                BTreeMap::new(),
                None,
                vec![],
                msg,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserTpl {
    p: Page,
    user: UserAdminView,
    orgs: Vec<(String, String)>,
    roles: Vec<(String, String)>,
    profiles: String,
    errors: BTreeMap<String, String>,
    new_password: String,
    saved: bool,
    locked: String,
}

impl UserTpl {
    fn err(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn role_label(&self, role: &Role) -> String {
        role.label(self.p.lang).to_string()
    }
}

async fn render_user(
    state: &AppState,
    u: &UiUser,
    id: i64,
    errors: BTreeMap<String, String>,
    new_password: String,
    saved: bool,
) -> Response {
    let actor = u.actor.clone();
    let loaded = svc_call(state, move |s| {
        Ok((s.admin_users(&actor)?, s.admin_organizations(&actor)?))
    })
    .await;
    let (users, orgs) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(u, &e),
    };
    let Some(user) = users.into_iter().find(|x| x.id == id) else {
        return error_page(u, &ServiceError::NotFound);
    };
    let p = Page::for_user(
        u,
        format!("{} {}", user.last_name, user.first_name),
        "admin",
        0,
    );
    let locked = user
        .locked_until
        .filter(|t| *t > chrono::Utc::now())
        .map(|t| fmt::datetime(t, p.tz, None, p.lang))
        .unwrap_or_default();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let tpl = UserTpl {
        orgs: orgs
            .into_iter()
            .map(|o| (o.id.to_string(), o.short_name))
            .collect(),
        roles: roles(u.lang),
        profiles: user.profiles.join(", "),
        p,
        user,
        errors,
        new_password,
        saved,
        locked,
    };
    (status, render(tpl)).into_response()
}

pub async fn user(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Query(q): Query<EditQuery>,
) -> Response {
    render_user(
        &state,
        &u,
        id,
        BTreeMap::new(),
        String::new(),
        q.saved.is_some(),
    )
    .await
}

/// Unlocks an account locked after failed sign-ins (audited), then shows it again.
pub async fn unlock_user(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
) -> Response {
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.unlock_user(&actor, id)).await {
        Ok(()) => Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response(),
        Err(e) => error_page(&u, &e),
    }
}

pub async fn update_user(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let input = UserUpdate {
        last_name: get("last_name"),
        first_name: get("first_name"),
        middle_name: get("middle_name"),
        position: get("position"),
        phone: get("phone"),
        email: get("email"),
        active: f.contains_key("active"),
        profiles: split_profiles(&get("profiles")),
        snils: Some(get("snils")),
        position_code: Some(get("position_code")),
    };
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.admin_update_user(&actor, id, &input)).await {
        Ok(()) => Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response(),
        Err(e @ ServiceError::Invalid(_)) => {
            render_user(&state, &u, id, errors_of(&e, u.lang), String::new(), false).await
        }
        Err(e) => error_page(&u, &e),
    }
}

pub async fn add_role(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let role = f.get("role").and_then(|r| Role::parse(r));
    let org = f.get("organization_id").and_then(|o| o.parse().ok());
    let (Some(role), Some(organization_id)) = (role, org) else {
        let mut errors = BTreeMap::new();
        errors.insert(
            "role".to_string(),
            rtms_i18n::refusal("required", u.lang).to_string(),
        );
        return render_user(&state, &u, id, errors, String::new(), false).await;
    };
    let actor = u.actor.clone();
    match svc_call(&state, move |s| {
        s.admin_add_role(
            &actor,
            id,
            &RoleAssignment {
                role,
                organization_id,
            },
        )
    })
    .await
    {
        Ok(()) => Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response(),
        Err(e @ ServiceError::Invalid(_)) => {
            let mut errors = errors_of(&e, u.lang);
            if let Some(m) = errors.remove("roles[0]") {
                errors.insert("role".into(), m);
            }
            render_user(&state, &u, id, errors, String::new(), false).await
        }
        Err(e) => error_page(&u, &e),
    }
}

pub async fn remove_role(
    State(state): State<AppState>,
    u: UiUser,
    Path((id, membership)): Path<(i64, i64)>,
) -> Response {
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.admin_remove_role(&actor, id, membership)).await {
        Ok(()) => Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response(),
        Err(e) => error_page(&u, &e),
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
) -> Response {
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.admin_reset_password(&actor, id)).await {
        Ok(pw) => render_user(&state, &u, id, BTreeMap::new(), pw, false).await,
        Err(e) => error_page(&u, &e),
    }
}

// ---- routes and settings ------------------------------------------------------------------

pub struct RouteRow {
    pub profile: String,
    pub name: String,
    pub cells: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin_routes.html")]
struct RoutesTpl {
    p: Page,
    rows: Vec<RouteRow>,
    forms: Vec<(String, String)>,
    tkcs: Vec<(String, String)>,
    error: String,
}

pub async fn routes(State(state): State<AppState>, u: UiUser) -> Response {
    render_routes(&state, &u, String::new()).await
}

async fn render_routes(state: &AppState, u: &UiUser, error: String) -> Response {
    let actor = u.actor.clone();
    let lang = u.lang;
    let loaded = svc_call(state, move |s| {
        Ok((
            s.admin_routes(&actor)?,
            s.profiles(lang)?,
            s.organizations(OrgKind::Tkc)?,
        ))
    })
    .await;
    let (routes, profiles, tkcs) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(u, &e),
    };
    let rows = profiles
        .into_iter()
        .map(|p| RouteRow {
            cells: FormOfCare::ALL
                .iter()
                .map(|f| {
                    let tkc = routes
                        .iter()
                        .find(|r| r.profile == p.code && r.form_of_care == *f)
                        .map(|r| r.tkc_id.to_string())
                        .unwrap_or_default();
                    (f.as_str().to_string(), tkc)
                })
                .collect(),
            profile: p.code,
            name: p.name,
        })
        .collect();
    let p = Page::for_user(u, tr(lang, "admin-routes"), "admin", 0);
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let tpl = RoutesTpl {
        p,
        rows,
        forms: FormOfCare::ALL
            .iter()
            .map(|f| (f.as_str().to_string(), f.label(lang).to_string()))
            .collect(),
        tkcs: tkcs
            .into_iter()
            .map(|t| (t.id.to_string(), t.name))
            .collect(),
        error,
    };
    (status, render(tpl)).into_response()
}

/// Saves one profile's row of the route table (a centre per form of care).
pub async fn save_route(
    State(state): State<AppState>,
    u: UiUser,
    Path(profile): Path<String>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    for form in FormOfCare::ALL {
        let tkc: Option<i64> = f.get(form.as_str()).and_then(|v| v.parse().ok());
        let actor = u.actor.clone();
        let profile = profile.clone();
        let form = *form;
        // Keep the on-duty consultant when the centre stays the same.
        let result = svc_call(&state, move |s| {
            let current = s
                .admin_routes(&actor)?
                .into_iter()
                .find(|r| r.profile == profile && r.form_of_care == form);
            let consultant = current
                .filter(|c| Some(c.tkc_id) == tkc)
                .and_then(|c| c.consultant_id);
            s.admin_set_route(
                &actor,
                &RouteInput {
                    profile,
                    form_of_care: form,
                    tkc_id: tkc,
                    consultant_id: consultant,
                },
            )
        })
        .await;
        if let Err(e) = result {
            let msg = crate::error::message(&e, u.lang);
            return render_routes(&state, &u, msg).await;
        }
    }
    Redirect::to("/admin/routes").into_response()
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsTpl {
    p: Page,
    s: RegionSettings,
    errors: BTreeMap<String, String>,
    message: String,
}

impl SettingsTpl {
    fn err(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

async fn render_settings(
    state: &AppState,
    u: &UiUser,
    override_s: Option<RegionSettings>,
    errors: BTreeMap<String, String>,
    message: String,
) -> Response {
    let actor = u.actor.clone();
    let s = match override_s {
        Some(s) => s,
        None => match svc_call(state, move |s| s.region_settings(&actor)).await {
            Ok(s) => s,
            Err(e) => return error_page(u, &e),
        },
    };
    let p = Page::for_user(u, tr(u.lang, "admin-settings"), "admin", 0);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        render(SettingsTpl {
            p,
            s,
            errors,
            message,
        }),
    )
        .into_response()
}

pub async fn settings(State(state): State<AppState>, u: UiUser) -> Response {
    render_settings(&state, &u, None, BTreeMap::new(), String::new()).await
}

pub async fn save_settings(
    State(state): State<AppState>,
    u: UiUser,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let num = |k: &str| {
        f.get(k)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(-1)
    };
    let s = RegionSettings {
        emergency_minutes: num("emergency_minutes"),
        urgent_minutes: num("urgent_minutes"),
        planned_minutes: num("planned_minutes"),
        require_totp_admins: f.contains_key("require_totp_admins"),
        session_idle_minutes: num("session_idle_minutes"),
        escalate_head_minutes: match f.get("escalate_head_minutes").map(|v| v.trim()) {
            None | Some("") => None,
            Some(v) => Some(v.parse::<i64>().unwrap_or(-1)),
        },
        region_name: f.get("region_name").cloned().unwrap_or_default(),
        upload_quota_org_mb: num("upload_quota_org_mb"),
        upload_quota_user_mb: num("upload_quota_user_mb"),
        semd_mis_number: f.get("semd_mis_number").cloned().unwrap_or_default(),
        semd_region_code: f.get("semd_region_code").cloned().unwrap_or_default(),
        semd_region_name: f.get("semd_region_name").cloned().unwrap_or_default(),
        semd_required: f.contains_key("semd_required"),
        duty_ack_minutes: num("duty_ack_minutes"),
        duty_auto_urgent: f.contains_key("duty_auto_urgent"),
        duty_webhook_url: f.get("duty_webhook_url").cloned().unwrap_or_default(),
        duty_webhook_template: f.get("duty_webhook_template").cloned().unwrap_or_default(),
        duty_webhook_secret: f.get("duty_webhook_secret").cloned().unwrap_or_default(),
    };
    let actor = u.actor.clone();
    let input = s.clone();
    match svc_call(&state, move |svc| svc.set_region_settings(&actor, &input)).await {
        Ok(()) => render_settings(&state, &u, None, BTreeMap::new(), tr(u.lang, "saved")).await,
        Err(e @ ServiceError::Invalid(_)) => {
            render_settings(&state, &u, Some(s), errors_of(&e, u.lang), String::new()).await
        }
        Err(e) => error_page(&u, &e),
    }
}

pub async fn import_icd10(
    State(state): State<AppState>,
    u: UiUser,
    mut multipart: Multipart,
) -> Response {
    let Ok(text) = uploaded_file(&mut multipart).await else {
        let mut errors = BTreeMap::new();
        errors.insert("file".to_string(), tr(u.lang, "admin-import-failed"));
        return render_settings(&state, &u, None, errors, String::new()).await;
    };
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.admin_import_icd10(&actor, &text)).await {
        Ok(n) => {
            render_settings(
                &state,
                &u,
                None,
                BTreeMap::new(),
                format!("{}: {n}", tr(u.lang, "admin-icd10-loaded")),
            )
            .await
        }
        Err(e) => {
            let mut errors = BTreeMap::new();
            errors.insert("file".to_string(), crate::error::message(&e, u.lang));
            render_settings(&state, &u, None, errors, String::new()).await
        }
    }
}

// ---- the audit journal -----------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditForm {
    login: Option<String>,
    action: Option<String>,
    object_type: Option<String>,
    object_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<i64>,
}

pub struct AuditLine {
    pub id: i64,
    pub at: String,
    /// UTC, ISO 8601: the CSV's machine-readable time.
    pub at_utc: String,
    pub login: String,
    /// The role's label; `role_code` is what the record holds.
    pub role: String,
    pub role_code: String,
    pub org: String,
    pub ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub details: String,
    /// The row as a sentence in the reader's language.
    pub text: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditTpl {
    p: Page,
    f: AuditForm,
    lines: Vec<AuditLine>,
    total: i64,
    csv_link: String,
}

impl AuditTpl {
    fn v(&self, o: &Option<String>) -> String {
        o.clone().unwrap_or_default()
    }
}

async fn audit_rows(
    state: &AppState,
    u: &UiUser,
    f: &AuditForm,
    per_page: i64,
) -> Result<(Vec<AuditLine>, i64), ServiceError> {
    let filter = crate::api::admin::audit_filter(
        &f.login,
        &f.action,
        &f.object_type,
        &f.object_id,
        &f.from,
        &f.to,
    );
    let actor = u.actor.clone();
    let page = f.page.unwrap_or(1);
    let lang = u.lang;
    let result = svc_call(state, move |s| {
        s.audit_search(&actor, &filter, page, per_page, lang)
    })
    .await?;
    let tz = Page::for_user(u, String::new(), "", 0).tz;
    let lines = result
        .items
        .into_iter()
        .map(|r| AuditLine {
            id: r.id,
            at: fmt::datetime(r.at, tz, None, u.lang),
            at_utc: r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            login: r.login,
            role: Role::parse(&r.role)
                .map(|x| x.label(u.lang).to_string())
                .unwrap_or_else(|| r.role.clone()),
            role_code: r.role,
            org: r.organization_name,
            ip: r.ip,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            details: r.details,
            text: r.text,
        })
        .collect();
    Ok((lines, result.total))
}

pub async fn audit(
    State(state): State<AppState>,
    u: UiUser,
    Query(f): Query<AuditForm>,
) -> Response {
    let (lines, total) = match audit_rows(&state, &u, &f, 100).await {
        Ok(v) => v,
        Err(e) => return error_page(&u, &e),
    };
    let csv_link = format!(
        "/audit.csv?{}",
        serde_urlencoded::to_string([
            ("login", f.login.clone().unwrap_or_default()),
            ("action", f.action.clone().unwrap_or_default()),
            ("object_type", f.object_type.clone().unwrap_or_default()),
            ("object_id", f.object_id.clone().unwrap_or_default()),
            ("from", f.from.clone().unwrap_or_default()),
            ("to", f.to.clone().unwrap_or_default()),
        ])
        .unwrap_or_default()
    );
    let p = Page::for_user(&u, tr(u.lang, "audit-title"), "audit", 0);
    render(AuditTpl {
        p,
        f,
        lines,
        total,
        csv_link,
    })
}

/// The filtered journal as CSV (semicolon-separated, UTF-8 with BOM, as spreadsheet programs in Russia expect).
pub async fn audit_csv(
    State(state): State<AppState>,
    u: UiUser,
    Query(f): Query<AuditForm>,
) -> Response {
    let (lines, _) = match audit_rows(&state, &u, &AuditForm { page: Some(1), ..f }, 100_000).await
    {
        Ok(v) => v,
        Err(e) => return error_page(&u, &e),
    };
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    // Machine-readable columns as the record holds them, then the sentence.
    let _ = w.write_record([
        "id",
        "time_utc",
        "login",
        "role",
        "organization",
        "ip",
        "action",
        "object_type",
        "object_id",
        "details",
        "description",
    ]);
    for l in lines {
        let cells = [
            l.id.to_string(),
            l.at_utc,
            l.login,
            l.role_code,
            l.org,
            l.ip,
            l.action,
            l.object_type,
            l.object_id,
            l.details,
            l.text,
        ];
        let _ = w.write_record(cells.map(|c| spreadsheet_safe(&c)));
    }
    let body = w.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"rtms-audit.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// A cell a spreadsheet will not run as a formula: text that starts like one gets
/// a leading apostrophe (anyone can type a login that ends up in the journal).
fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}
