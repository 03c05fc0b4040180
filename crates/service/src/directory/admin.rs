//! Administration: organizations, users and their roles, the route table,
//! deadlines, region settings and reference updates. Administrators only; every
//! change is in the audit trail.

use chrono::{DateTime, Utc};
use rand::Rng;
use rtms_domain::{FieldError, FormOfCare, OrgKind, Role};
use rtms_store::models::NewOrganization;
use rtms_store::repo::{self, OrganizationChanges, UserChanges};
use rtms_store::{reference, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::auth::{check_password, hash_password, NewUserSpec};
use crate::{Actor, ServiceError, Services};

/// Why a FHIR subscription was switched off when its owner lost access
/// (deactivated here, or a token gone: `exchange::fhir_hooks`).
pub const ERR_OWNER: &str =
    "the owner is deactivated or holds no API token with the fhir scope any more";

// Region settings of the СЭМД (`documents::semd` builds with them).
/// Settings: the МИС number in ЕГИСЗ and its instance («1.1»), which make
/// document ids `<OID of the organization>.100.<number>.<instance>.51`.
pub const SEMD_MIS_NUMBER_SETTING: &str = "semd.mis_number";
/// Settings: the region's code and name in НСИ 1.2.643.5.1.13.13.99.2.206.
pub const SEMD_REGION_CODE_SETTING: &str = "semd.region_code";
pub const SEMD_REGION_NAME_SETTING: &str = "semd.region_name";
/// Settings: `false` lets a conclusion be signed when its СЭМД cannot be built.
pub const SEMD_REQUIRED_SETTING: &str = "semd.required";

/// `N.N` — the МИС's number in ЕГИСЗ and its instance.
pub fn valid_mis_number(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 9
                && p.chars().all(|c| c.is_ascii_digit())
                && !p.starts_with('0')
        })
}

type SResult<T> = Result<T, ServiceError>;

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct OrgInput {
    pub name: String,
    pub short_name: String,
    /// `mo`, `tkc`, `ktc` or `federal`.
    pub kind: String,
    /// 1, 2 or 3 for medical organizations.
    pub level: Option<i32>,
    /// ФРМО OID.
    pub frmo_oid: Option<String>,
    /// IANA time zone, e.g. `Europe/Moscow`, `Asia/Yekaterinburg`.
    pub time_zone: String,
    #[serde(default)]
    pub requires_head_approval: bool,
    #[serde(default = "yes")]
    pub active: bool,
    /// The external video system of its hardware terminals: a link template with
    /// `{session}`, `{room}` and `{title}`, shown to its users instead of the
    /// built-in room. Empty: the built-in room.
    #[serde(default)]
    pub video_link_template: Option<String>,
    /// Postal address as text (the СЭМД names the consulting organization's).
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
}

/// The settings key of an organization's external video link template.
pub fn video_link_key(org_id: i64) -> String {
    format!("video.link_template.{org_id}")
}

fn yes() -> bool {
    true
}

/// A staff member's СНИЛС and position code, as typed: normalized, or the
/// problems. Empty means not given.
fn staff_identity(
    snils: Option<&str>,
    position_code: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> (Option<String>, Option<String>) {
    let snils = match snils.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match rtms_domain::validate::Snils::parse(s) {
            Ok(v) => Some(v.as_str().to_string()),
            Err(code) => {
                errors.push(FieldError::new("snils", code));
                None
            }
        },
    };
    let code = match position_code.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(c) if c.len() <= 6 && c.chars().all(|d| d.is_ascii_digit()) => Some(c.to_string()),
        Some(_) => {
            errors.push(FieldError::new("position_code", "position_code_format"));
            None
        }
    };
    (snils, code)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgAdminView {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub level: Option<i32>,
    pub frmo_oid: Option<String>,
    pub time_zone: String,
    pub requires_head_approval: bool,
    pub active: bool,
    pub video_link_template: Option<String>,
    pub address: String,
    pub phone: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct UserInput {
    pub login: String,
    pub last_name: String,
    pub first_name: String,
    #[serde(default)]
    pub middle_name: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// СНИЛС (a signer of a СЭМД is named by it).
    #[serde(default)]
    pub snils: Option<String>,
    /// Position code, НСИ 1.2.643.5.1.13.13.11.1002 (`position` is its name).
    #[serde(default)]
    pub position_code: Option<String>,
    /// A temporary password; generated when empty. Changed at first sign-in.
    #[serde(default)]
    pub password: String,
    /// Role and organization id.
    #[serde(default)]
    pub roles: Vec<RoleAssignment>,
    /// Specialty profile codes (consultants).
    #[serde(default)]
    pub profiles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct RoleAssignment {
    pub role: Role,
    pub organization_id: i64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct UserUpdate {
    pub last_name: String,
    pub first_name: String,
    #[serde(default)]
    pub middle_name: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    pub active: bool,
    #[serde(default)]
    pub profiles: Vec<String>,
    /// СНИЛС; empty clears it.
    #[serde(default)]
    pub snils: Option<String>,
    /// Position code, НСИ 1.2.643.5.1.13.13.11.1002; empty clears it.
    #[serde(default)]
    pub position_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipAdminView {
    pub id: i64,
    pub role: Role,
    pub organization_id: i64,
    pub organization: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserAdminView {
    pub id: i64,
    pub login: String,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub position: String,
    pub position_code: Option<String>,
    pub snils: Option<String>,
    pub phone: String,
    pub email: String,
    pub active: bool,
    pub must_change_password: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub totp_enabled: bool,
    pub roles: Vec<MembershipAdminView>,
    pub profiles: Vec<String>,
}

/// A user created with a temporary password, shown once to the administrator.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedUser {
    pub id: i64,
    pub login: String,
    pub temporary_password: String,
}

/// One line of a CSV import: created, or refused with reasons.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportRow {
    pub line: usize,
    pub login: String,
    pub created: Option<CreatedUser>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RouteAdminView {
    pub profile: String,
    pub profile_name: String,
    pub form_of_care: FormOfCare,
    pub tkc_id: i64,
    pub tkc: String,
    pub consultant_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct RouteInput {
    pub profile: String,
    pub form_of_care: FormOfCare,
    /// None removes the route.
    pub tkc_id: Option<i64>,
    pub consultant_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct RegionSettings {
    pub emergency_minutes: i64,
    pub urgent_minutes: i64,
    pub planned_minutes: i64,
    /// Administrators must use a second factor.
    pub require_totp_admins: bool,
    pub session_idle_minutes: i64,
    /// Minutes after a request goes overdue when the head of the КТЦ is alerted;
    /// none: never.
    #[serde(default)]
    pub escalate_head_minutes: Option<i64>,
    /// The region's name, printed on documents and reports.
    #[serde(default)]
    pub region_name: String,
    /// What an organization's members may hold in attachments and uploads in
    /// progress, in megabytes; 0: no limit.
    #[serde(default = "default_org_quota")]
    pub upload_quota_org_mb: i64,
    /// What one user may hold likewise, in megabytes; 0: no limit.
    #[serde(default = "default_user_quota")]
    pub upload_quota_user_mb: i64,
    /// СЭМД: the МИС number in ЕГИСЗ and its instance, `N.N` (document ids
    /// are `<organization OID>.100.N.N.51`).
    #[serde(default)]
    pub semd_mis_number: String,
    /// СЭМД: the region's code in НСИ 1.2.643.5.1.13.13.99.2.206 (e.g. `69`).
    #[serde(default)]
    pub semd_region_code: String,
    /// СЭМД: the region's name as that dictionary writes it.
    #[serde(default)]
    pub semd_region_name: String,
    /// A conclusion is signed only when its СЭМД can be built.
    #[serde(default = "yes")]
    pub semd_required: bool,
    /// Minutes the consultant on duty has to acknowledge an emergency before
    /// it passes to the backup (1–240).
    #[serde(default = "default_ack_minutes")]
    pub duty_ack_minutes: i64,
    /// Urgent requests go to the consultant on duty at once, as emergencies
    /// do (else to the dispatcher).
    #[serde(default)]
    pub duty_auto_urgent: bool,
    /// The duty webhook (a region's SMS or telephone gateway), `http(s)://…`;
    /// empty: none.
    #[serde(default)]
    pub duty_webhook_url: String,
    /// The webhook's text; `{id}`, `{step}` and `{link}` are filled in (ids
    /// only: never a patient).
    #[serde(default)]
    pub duty_webhook_template: String,
    /// The webhook's HMAC-SHA256 key. Never read back (empty when read);
    /// an empty one keeps the key there is.
    #[serde(default)]
    pub duty_webhook_secret: String,
}

fn default_ack_minutes() -> i64 {
    super::duty::DEFAULT_ACK_MINUTES
}

/// The setting that holds [`RegionSettings::upload_quota_org_mb`].
pub const UPLOAD_QUOTA_ORG_SETTING: &str = "upload_quota_org_mb";
/// The setting that holds [`RegionSettings::upload_quota_user_mb`].
pub const UPLOAD_QUOTA_USER_SETTING: &str = "upload_quota_user_mb";
/// An organization's upload quota until an administrator sets one: 1 TiB.
pub const DEFAULT_UPLOAD_QUOTA_ORG_MB: i64 = 1 << 20;
/// A user's upload quota until an administrator sets one: 100 GiB.
pub const DEFAULT_UPLOAD_QUOTA_USER_MB: i64 = 100 << 10;
/// The largest quota an administrator may set: 1 PiB.
pub const MAX_UPLOAD_QUOTA_MB: i64 = 1 << 30;

fn default_org_quota() -> i64 {
    DEFAULT_UPLOAD_QUOTA_ORG_MB
}

fn default_user_quota() -> i64 {
    DEFAULT_UPLOAD_QUOTA_USER_MB
}

/// The upload quotas in force, in megabytes (organization, user); 0: no limit.
pub fn upload_quotas(conn: &mut rtms_store::DbConn) -> Result<(i64, i64), rtms_store::StoreError> {
    let read = |conn: &mut rtms_store::DbConn, key: &str, default: i64| {
        Ok::<_, rtms_store::StoreError>(
            repo::setting(conn, key)?
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default),
        )
    };
    Ok((
        read(conn, UPLOAD_QUOTA_ORG_SETTING, DEFAULT_UPLOAD_QUOTA_ORG_MB)?,
        read(
            conn,
            UPLOAD_QUOTA_USER_SETTING,
            DEFAULT_UPLOAD_QUOTA_USER_MB,
        )?,
    ))
}

/// The setting that holds [`RegionSettings::region_name`].
pub const REGION_NAME_SETTING: &str = "region_name";

/// The setting that holds [`RegionSettings::escalate_head_minutes`].
pub const ESCALATE_HEAD_SETTING: &str = "escalate_head_minutes";

/// Minutes after overdue when the КТЦ head is alerted, if the region set it.
pub fn escalate_head_minutes(
    conn: &mut rtms_store::DbConn,
) -> Result<Option<i64>, rtms_store::StoreError> {
    Ok(repo::setting(conn, ESCALATE_HEAD_SETTING)?.and_then(|v| v.trim().parse().ok()))
}

/// A readable temporary password: four groups of four, no look-alike characters.
pub fn temporary_password() -> String {
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn validate_org(input: &OrgInput) -> Vec<FieldError> {
    let mut e = Vec::new();
    if input.name.trim().is_empty() {
        e.push(FieldError::new("name", "required"));
    }
    if input.short_name.trim().is_empty() {
        e.push(FieldError::new("short_name", "required"));
    }
    match OrgKind::parse(&input.kind) {
        None => e.push(FieldError::new("kind", "unknown_value")),
        Some(OrgKind::Mo) if !matches!(input.level, Some(1..=3)) => {
            e.push(FieldError::new("level", "out_of_range"))
        }
        _ => {}
    }
    if input.address.chars().count() > 500 {
        e.push(FieldError::new("address", "too_long"));
    }
    if input.phone.chars().count() > 50 {
        e.push(FieldError::new("phone", "too_long"));
    }
    if input.time_zone.parse::<chrono_tz::Tz>().is_err() {
        e.push(FieldError::new("time_zone", "unknown_value"));
    }
    if let Some(oid) = input.frmo_oid.as_deref().filter(|o| !o.is_empty()) {
        if !oid
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        {
            e.push(FieldError::new("frmo_oid", "oid_format"));
        }
    }
    if let Some(sent) = input.video_link_template.as_deref() {
        let t = sent.trim();
        let malformed = !t.is_empty()
            && (!(t.starts_with("https://") || t.starts_with("http://"))
                || t.chars().any(char::is_whitespace));
        if malformed || sent.chars().count() > 500 {
            e.push(FieldError::new("video_link_template", "link_template"));
        }
    }
    e
}

/// Writes (or clears) an organization's external video link template.
fn save_link_template(c: &mut rtms_store::DbConn, id: i64, input: &OrgInput) -> SResult<()> {
    let t = input.video_link_template.as_deref().unwrap_or("").trim();
    repo::set_setting(c, &video_link_key(id), t)?;
    Ok(())
}

/// The audit actions that change who holds which role.
pub const ROLE_ACTIONS: &[&str] = &["role_add", "role_remove", "user_create"];
/// How many recent role changes the administrators' page lists.
pub const ROLE_CHANGES_SHOWN: i64 = 30;

/// Roles an administrator may hold by their own grant: none that reads
/// patient data (clinical roles) or audits administrators.
pub fn may_grant_self(role: Role) -> bool {
    !role.is_clinical() && role != Role::Auditor
}

/// A role change as the administrators' page lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleChangeView {
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who changed it.
    pub by: String,
    /// Whose roles changed.
    pub user: String,
    /// `role_add`, `role_remove` or `user_create`.
    pub action: String,
    /// `role@organization id`.
    pub details: String,
}

impl Services {
    fn require_admin(&self, actor: &Actor) -> SResult<()> {
        if actor.has(Role::Admin) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    pub fn admin_organizations(&self, actor: &Actor) -> SResult<Vec<OrgAdminView>> {
        self.require_admin(actor)?;
        let mut conn = self.db.conn()?;
        let settings = repo::settings_all(&mut conn)?;
        let template = |id: i64| {
            let key = video_link_key(id);
            settings
                .iter()
                .find(|(k, v)| *k == key && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        Ok(repo::organizations(&mut conn, None)?
            .into_iter()
            .map(|o| OrgAdminView {
                video_link_template: template(o.id),
                id: o.id,
                name: o.name,
                short_name: o.short_name,
                kind: o.kind,
                level: o.level,
                frmo_oid: o.frmo_oid,
                time_zone: o.time_zone,
                requires_head_approval: o.requires_head_approval,
                active: o.active,
                address: o.address,
                phone: o.phone,
            })
            .collect())
    }

    pub fn create_organization(&self, actor: &Actor, input: &OrgInput) -> SResult<i64> {
        self.require_admin(actor)?;
        let errors = validate_org(input);
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let now = self.clock.now().naive_utc();
        self.db
            .write(|c| {
                let id = repo::insert_organization(
                    c,
                    &NewOrganization {
                        name: input.name.trim(),
                        short_name: input.short_name.trim(),
                        kind: &input.kind,
                        level: input.level,
                        frmo_oid: input.frmo_oid.as_deref().filter(|o| !o.is_empty()),
                        time_zone: &input.time_zone,
                        requires_head_approval: input.requires_head_approval,
                        active: input.active,
                        created_at: now,
                        address: input.address.trim(),
                        phone: input.phone.trim(),
                    },
                )?;
                save_link_template(c, id, input)?;
                self.audit_in(
                    c,
                    actor,
                    Some(Role::Admin),
                    "org_create",
                    ("organization", &id.to_string()),
                    input.name.trim(),
                )?;
                Ok(id)
            })
            .inspect(|_| self.org_cache.clear())
    }

    pub fn update_organization(&self, actor: &Actor, id: i64, input: &OrgInput) -> SResult<()> {
        self.require_admin(actor)?;
        let errors = validate_org(input);
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        self.db.write(|c| {
            repo::update_organization(
                c,
                id,
                &OrganizationChanges {
                    name: input.name.trim(),
                    short_name: input.short_name.trim(),
                    kind: &input.kind,
                    level: input.level,
                    frmo_oid: input.frmo_oid.as_deref().filter(|o| !o.is_empty()),
                    time_zone: &input.time_zone,
                    requires_head_approval: input.requires_head_approval,
                    active: input.active,
                    address: input.address.trim(),
                    phone: input.phone.trim(),
                },
            )?;
            save_link_template(c, id, input)?;
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                "org_update",
                ("organization", &id.to_string()),
                input.name.trim(),
            )
        })?;
        self.org_cache.clear();
        Ok(())
    }

    pub fn admin_users(&self, actor: &Actor) -> SResult<Vec<UserAdminView>> {
        self.require_admin(actor)?;
        let mut conn = self.db.conn()?;
        let users = repo::users_all(&mut conn)?;
        let memberships = repo::memberships_all(&mut conn)?;
        let orgs = repo::organizations(&mut conn, None)?;
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            let profiles = repo::profiles_of(&mut conn, u.id)?;
            out.push(UserAdminView {
                roles: memberships
                    .iter()
                    .filter(|m| m.user_id == u.id)
                    .filter_map(|m| {
                        Some(MembershipAdminView {
                            id: m.id,
                            role: Role::parse(&m.role)?,
                            organization_id: m.organization_id,
                            organization: orgs
                                .iter()
                                .find(|o| o.id == m.organization_id)
                                .map(|o| o.short_name.clone())
                                .unwrap_or_default(),
                        })
                    })
                    .collect(),
                profiles,
                id: u.id,
                login: u.login,
                last_name: u.last_name,
                first_name: u.first_name,
                middle_name: u.middle_name,
                position: u.position,
                position_code: u.position_code,
                snils: u.snils,
                phone: u.phone,
                email: u.email,
                active: u.active,
                must_change_password: u.must_change_password,
                locked_until: u.locked_until.map(|t| t.and_utc()),
                totp_enabled: u.totp_enabled,
            });
        }
        Ok(out)
    }

    fn check_assignments(
        &self,
        roles: &[RoleAssignment],
        profiles: &[String],
    ) -> SResult<Vec<FieldError>> {
        let mut conn = self.db.conn()?;
        let mut errors = Vec::new();
        for (i, r) in roles.iter().enumerate() {
            match repo::organization(&mut conn, r.organization_id) {
                Ok(o) => {
                    let kind = OrgKind::parse(&o.kind);
                    let fits = match r.role {
                        Role::Doctor => kind == Some(OrgKind::Mo),
                        // The head of an МО, or of the КТЦ (who hears of escalations).
                        Role::Head => matches!(kind, Some(OrgKind::Mo | OrgKind::Ktc)),
                        Role::Coordinator | Role::Consultant => {
                            matches!(kind, Some(OrgKind::Tkc | OrgKind::Federal))
                        }
                        Role::Dispatcher => matches!(kind, Some(OrgKind::Ktc | OrgKind::Federal)),
                        Role::Admin | Role::Analyst | Role::Auditor => true,
                    };
                    if !fits {
                        errors.push(FieldError::new(format!("roles[{i}]"), "role_org_mismatch"));
                    }
                }
                Err(_) => errors.push(FieldError::new(
                    format!("roles[{i}].organization_id"),
                    "unknown_organization",
                )),
            }
        }
        for (i, p) in profiles.iter().enumerate() {
            if reference::profile(&mut conn, p)?.is_none() {
                errors.push(FieldError::new(format!("profiles[{i}]"), "unknown_profile"));
            }
        }
        Ok(errors)
    }

    /// Creates a user who must change the (temporary) password at first sign-in.
    pub fn admin_create_user(&self, actor: &Actor, input: &UserInput) -> SResult<CreatedUser> {
        self.require_admin(actor)?;
        let mut errors = Vec::new();
        // ASCII only, checked before lower-casing (the Kelvin sign lower-cases to `k`).
        let login = input.login.trim().to_ascii_lowercase();
        if login.is_empty()
            || !login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            errors.push(FieldError::new(
                "login",
                if login.is_empty() {
                    "required"
                } else {
                    "login_format"
                },
            ));
        }
        for (f, v) in [
            ("last_name", &input.last_name),
            ("first_name", &input.first_name),
        ] {
            if v.trim().is_empty() {
                errors.push(FieldError::new(f, "required"));
            }
        }
        let password = if input.password.is_empty() {
            temporary_password()
        } else {
            input.password.clone()
        };
        if let Err(code) = check_password(&login, &password) {
            errors.push(FieldError::new("password", code));
        }
        errors.extend(self.check_assignments(&input.roles, &input.profiles)?);
        let (snils, position_code) = staff_identity(
            input.snils.as_deref(),
            input.position_code.as_deref(),
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let hash = hash_password(&password)?;
        let id = self.insert_user_with_hash(
            &NewUserSpec {
                login: login.clone(),
                password: String::new(),
                last_name: input.last_name.trim().into(),
                first_name: input.first_name.trim().into(),
                middle_name: input.middle_name.trim().into(),
                position: input.position.trim().into(),
                phone: input.phone.trim().into(),
                email: input.email.trim().into(),
                roles: input
                    .roles
                    .iter()
                    .map(|r| (r.role, r.organization_id))
                    .collect(),
                profiles: input.profiles.clone(),
                must_change_password: true,
                snils,
                position_code,
            },
            &hash,
        )?;
        self.db.write(|c| {
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                "user_create",
                ("user", &id.to_string()),
                &login,
            )
        })?;
        Ok(CreatedUser {
            id,
            login,
            temporary_password: password,
        })
    }

    /// Changes a user's card; deactivating ends their sessions but keeps their history.
    pub fn admin_update_user(&self, actor: &Actor, id: i64, input: &UserUpdate) -> SResult<()> {
        self.require_admin(actor)?;
        let mut errors = Vec::new();
        for (f, v) in [
            ("last_name", &input.last_name),
            ("first_name", &input.first_name),
        ] {
            if v.trim().is_empty() {
                errors.push(FieldError::new(f, "required"));
            }
        }
        errors.extend(self.check_assignments(&[], &input.profiles)?);
        let (snils, position_code) = staff_identity(
            input.snils.as_deref(),
            input.position_code.as_deref(),
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        if id == actor.user.id && !input.active {
            return Err(ServiceError::field("active", "cannot_deactivate_self"));
        }
        let now = self.clock.now().naive_utc();
        self.db.write(|c| {
            repo::update_user(
                c,
                id,
                &UserChanges {
                    last_name: input.last_name.trim(),
                    first_name: input.first_name.trim(),
                    middle_name: input.middle_name.trim(),
                    position: input.position.trim(),
                    phone: input.phone.trim(),
                    email: input.email.trim(),
                    active: input.active,
                    snils: Some(snils.as_deref()),
                    position_code: Some(position_code.as_deref()),
                },
            )?;
            repo::set_user_profiles(c, id, &input.profiles)?;
            if !input.active {
                repo::revoke_tokens_of(c, id, "session", None, now)?;
                repo::revoke_tokens_of(c, id, "api", None, now)?;
                // Their systems' FHIR subscriptions end with them.
                rtms_store::fhir::switch_off_of_user(c, id, ERR_OWNER)?;
            }
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                if input.active {
                    "user_update"
                } else {
                    "user_deactivate"
                },
                ("user", &id.to_string()),
                "",
            )
        })
    }

    pub fn admin_add_role(
        &self,
        actor: &Actor,
        user_id: i64,
        role: &RoleAssignment,
    ) -> SResult<()> {
        self.require_admin(actor)?;
        // Separation of duties: an administrator never grants themself a role
        // that reads patient data, nor the auditor's who watches them.
        if user_id == actor.user.id && !may_grant_self(role.role) {
            return Err(ServiceError::refused("role_self_grant"));
        }
        let errors = self.check_assignments(std::slice::from_ref(role), &[])?;
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let result = self.db.write(|c| {
            // No such user: a 404, not a broken foreign key.
            repo::user(c, user_id)?;
            repo::add_membership(c, user_id, role.organization_id, role.role.as_str())?;
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                "role_add",
                ("user", &user_id.to_string()),
                &format!("{}@{}", role.role, role.organization_id),
            )
        });
        match result {
            Err(ServiceError::Store(StoreError::Duplicate)) => {
                Err(ServiceError::field("role", "role_exists"))
            }
            other => other,
        }
    }

    pub fn admin_remove_role(
        &self,
        actor: &Actor,
        user_id: i64,
        membership_id: i64,
    ) -> SResult<()> {
        self.require_admin(actor)?;
        self.db.write(|c| {
            let gone = repo::memberships_of(c, user_id)?
                .into_iter()
                .find(|m| m.id == membership_id)
                .map(|m| format!("{}@{}", m.role, m.organization_id))
                .unwrap_or_default();
            if !repo::remove_membership(c, user_id, membership_id)? {
                return Err(ServiceError::NotFound);
            }
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                "role_remove",
                ("user", &user_id.to_string()),
                &gone,
            )
        })
    }

    /// The latest role changes (granted, taken away, users created with a
    /// role), newest first, from the audit trail: every administrator sees
    /// what the others (and they themselves) changed.
    pub fn admin_role_changes(&self, actor: &Actor) -> SResult<Vec<RoleChangeView>> {
        self.require_admin(actor)?;
        let mut conn = self.db.conn()?;
        let rows = rtms_store::audit::recent_actions(&mut conn, ROLE_ACTIONS, ROLE_CHANGES_SHOWN)?;
        let users = repo::users_all(&mut conn)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let target = r
                    .object_id
                    .parse::<i64>()
                    .ok()
                    .and_then(|id| users.iter().find(|u| u.id == id))
                    .map(|u| u.login.clone())
                    .unwrap_or_else(|| r.object_id.clone());
                RoleChangeView {
                    at: r.at.and_utc(),
                    by: r.login,
                    user: target,
                    action: r.action,
                    details: r.details,
                }
            })
            .collect())
    }

    /// A new temporary password (to be changed at next sign-in); unlocks the account.
    pub fn admin_reset_password(&self, actor: &Actor, user_id: i64) -> SResult<String> {
        self.require_admin(actor)?;
        let password = temporary_password();
        let hash = hash_password(&password)?;
        self.db.write(|c| {
            repo::set_password(c, user_id, &hash, true)?;
            repo::set_login_failures(c, user_id, 0, None)?;
            // The login's sign-in throttle starts afresh too.
            let login = repo::user(c, user_id)?.login.to_lowercase();
            rtms_store::signin::clear_attempts(c, "login", &login)?;
            let now = self.clock.now().naive_utc();
            for kind in ["session", "api", "pending"] {
                repo::revoke_tokens_of(c, user_id, kind, None, now)?;
            }
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                "password_reset",
                ("user", &user_id.to_string()),
                "",
            )
        })?;
        Ok(password)
    }

    /// Users from CSV (header: login,last_name,first_name,middle_name,position,phone,email,role,organization,profiles; optional snils,position_code).
    /// `organization` is an id or a short name; `profiles` are separated by `;`.
    /// Every row is checked on its own: good rows are created, bad ones reported.
    pub fn admin_import_users(&self, actor: &Actor, csv_text: &str) -> SResult<Vec<ImportRow>> {
        self.require_admin(actor)?;
        let orgs = self.db.read(|c| repo::organizations(c, None))?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(csv_text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|_| ServiceError::field("file", "csv_format"))?
            .clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == name)
        };
        for required in ["login", "last_name", "first_name", "role", "organization"] {
            if col(required).is_none() {
                return Err(ServiceError::field("file", "csv_header"));
            }
        }
        let mut report = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let Ok(r) = record else {
                report.push(ImportRow {
                    line,
                    login: String::new(),
                    created: None,
                    errors: vec![crate::text("csv_format")],
                });
                continue;
            };
            let get = |name: &str| col(name).and_then(|c| r.get(c)).unwrap_or("").to_string();
            let login = get("login");
            let mut errors = Vec::new();
            let role = Role::parse(&get("role"));
            if role.is_none() {
                errors.push(format!("role: {}", crate::text("unknown_value")));
            }
            let org_ref = get("organization");
            let org = orgs.iter().find(|o| {
                o.id.to_string() == org_ref || o.short_name == org_ref || o.name == org_ref
            });
            if org.is_none() {
                errors.push(format!(
                    "organization: {}",
                    crate::text("unknown_organization")
                ));
            }
            if !errors.is_empty() {
                report.push(ImportRow {
                    line,
                    login,
                    created: None,
                    errors,
                });
                continue;
            }
            let input = UserInput {
                login: login.clone(),
                last_name: get("last_name"),
                first_name: get("first_name"),
                middle_name: get("middle_name"),
                position: get("position"),
                phone: get("phone"),
                email: get("email"),
                password: String::new(),
                // Optional columns: the СЭМД names a signer by them.
                snils: Some(get("snils")),
                position_code: Some(get("position_code")),
                roles: vec![RoleAssignment {
                    role: role.unwrap_or(Role::Doctor),
                    organization_id: org.map(|o| o.id).unwrap_or(0),
                }],
                profiles: get("profiles")
                    .split(';')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect(),
            };
            match self.admin_create_user(actor, &input) {
                Ok(created) => report.push(ImportRow {
                    line,
                    login,
                    created: Some(created),
                    errors: vec![],
                }),
                Err(ServiceError::Invalid(list)) => report.push(ImportRow {
                    line,
                    login,
                    created: None,
                    errors: list
                        .iter()
                        .map(|e| {
                            format!(
                                "{}: {}",
                                e.field,
                                rtms_i18n::refusal(e.code, rtms_domain::Lang::Ru)
                            )
                        })
                        .collect(),
                }),
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    pub fn admin_routes(&self, actor: &Actor) -> SResult<Vec<RouteAdminView>> {
        self.require_admin(actor)?;
        let mut conn = self.db.conn()?;
        let orgs = repo::organizations(&mut conn, None)?;
        let profiles = reference::profiles(&mut conn)?;
        Ok(repo::routes_all(&mut conn)?
            .into_iter()
            .filter_map(|r| {
                Some(RouteAdminView {
                    profile_name: profiles
                        .iter()
                        .find(|p| p.code == r.profile_code)
                        .map(|p| p.name_ru.clone())
                        .unwrap_or_default(),
                    tkc: orgs
                        .iter()
                        .find(|o| o.id == r.tkc_id)
                        .map(|o| o.short_name.clone())
                        .unwrap_or_default(),
                    form_of_care: FormOfCare::parse(&r.form_of_care)?,
                    profile: r.profile_code,
                    tkc_id: r.tkc_id,
                    consultant_id: r.consultant_id,
                })
            })
            .collect())
    }

    pub fn admin_set_route(&self, actor: &Actor, input: &RouteInput) -> SResult<()> {
        self.require_admin(actor)?;
        let mut conn = self.db.conn()?;
        if reference::profile(&mut conn, &input.profile)?.is_none() {
            return Err(ServiceError::field("profile", "unknown_profile"));
        }
        if let Some(tkc) = input.tkc_id {
            let org = repo::organization(&mut conn, tkc)
                .map_err(|_| ServiceError::field("tkc_id", "unknown_organization"))?;
            if !matches!(
                OrgKind::parse(&org.kind),
                Some(OrgKind::Tkc | OrgKind::Federal)
            ) {
                return Err(ServiceError::field("tkc_id", "not_a_tkc"));
            }
            if let Some(c) = input.consultant_id {
                if !repo::memberships_of(&mut conn, c)?
                    .iter()
                    .any(|m| m.role == "consultant" && m.organization_id == tkc)
                {
                    return Err(ServiceError::field("consultant_id", "not_in_tkc"));
                }
            }
        }
        drop(conn);
        self.db.write(|c| {
            repo::set_route(
                c,
                &input.profile,
                input.form_of_care.as_str(),
                input.tkc_id.map(|t| (t, input.consultant_id)),
            )?;
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                "route_set",
                (
                    "route",
                    &format!("{}/{}", input.profile, input.form_of_care),
                ),
                &format!("{:?}", input.tkc_id),
            )
        })
    }

    pub fn region_settings(&self, actor: &Actor) -> SResult<RegionSettings> {
        self.require_admin(actor)?;
        let mut conn = self.db.conn()?;
        let deadlines = repo::deadline_minutes(&mut conn)?;
        let d = rtms_domain::DeadlinePolicy::default();
        let minutes = |form: &str, default: i64| {
            deadlines
                .iter()
                .find(|(f, _)| f == form)
                .map(|(_, m)| *m)
                .unwrap_or(default)
        };
        let (upload_quota_org_mb, upload_quota_user_mb) = upload_quotas(&mut conn)?;
        Ok(RegionSettings {
            upload_quota_org_mb,
            upload_quota_user_mb,
            emergency_minutes: minutes("emergency", d.emergency_minutes),
            urgent_minutes: minutes("urgent", d.urgent_minutes),
            planned_minutes: minutes("planned", d.planned_minutes),
            require_totp_admins: repo::setting(&mut conn, "require_totp_admins")?.as_deref()
                == Some("1"),
            session_idle_minutes: repo::setting(&mut conn, "session_idle_minutes")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(crate::access::sessions::DEFAULT_IDLE_MINUTES),
            escalate_head_minutes: escalate_head_minutes(&mut conn)?,
            region_name: repo::setting(&mut conn, REGION_NAME_SETTING)?.unwrap_or_default(),
            semd_mis_number: repo::setting(&mut conn, SEMD_MIS_NUMBER_SETTING)?.unwrap_or_default(),
            semd_region_code: repo::setting(&mut conn, SEMD_REGION_CODE_SETTING)?
                .unwrap_or_default(),
            semd_region_name: repo::setting(&mut conn, SEMD_REGION_NAME_SETTING)?
                .unwrap_or_default(),
            semd_required: self.semd_required(&mut conn)?,
            duty_ack_minutes: super::duty::ack_minutes(&mut conn)?,
            duty_auto_urgent: repo::setting(&mut conn, super::duty::AUTO_URGENT_SETTING)?
                .as_deref()
                == Some("true"),
            duty_webhook_url: repo::setting(&mut conn, super::duty::WEBHOOK_URL_SETTING)?
                .unwrap_or_default(),
            duty_webhook_template: repo::setting(&mut conn, super::duty::WEBHOOK_TEMPLATE_SETTING)?
                .unwrap_or_default(),
            duty_webhook_secret: String::new(),
        })
    }

    pub fn set_region_settings(&self, actor: &Actor, s: &RegionSettings) -> SResult<()> {
        self.require_admin(actor)?;
        let mut errors = Vec::new();
        for (f, v, lo, hi) in [
            ("emergency_minutes", s.emergency_minutes, 15, 24 * 60),
            ("urgent_minutes", s.urgent_minutes, 60, 7 * 24 * 60),
            ("planned_minutes", s.planned_minutes, 24 * 60, 90 * 24 * 60),
            (
                "session_idle_minutes",
                s.session_idle_minutes,
                crate::access::sessions::MIN_IDLE_MINUTES,
                12 * 60,
            ),
        ] {
            if !(lo..=hi).contains(&v) {
                errors.push(FieldError::new(f, "out_of_range"));
            }
        }
        if s.escalate_head_minutes
            .is_some_and(|m| !(0..=30 * 24 * 60).contains(&m))
        {
            errors.push(FieldError::new("escalate_head_minutes", "out_of_range"));
        }
        for (f, v) in [
            ("upload_quota_org_mb", s.upload_quota_org_mb),
            ("upload_quota_user_mb", s.upload_quota_user_mb),
        ] {
            if !(0..=MAX_UPLOAD_QUOTA_MB).contains(&v) {
                errors.push(FieldError::new(f, "out_of_range"));
            }
        }
        // Lengths count what was sent (as the API's schema says).
        if s.region_name.chars().count() > 200 {
            errors.push(FieldError::new("region_name", "too_long"));
        }
        let mis = s.semd_mis_number.trim();
        if !mis.is_empty() && !valid_mis_number(mis) {
            errors.push(FieldError::new("semd_mis_number", "semd_mis_number_format"));
        }
        let code = s.semd_region_code.trim();
        let code_ok = code.len() <= 3 && code.chars().all(|c| c.is_ascii_digit());
        if !code_ok {
            errors.push(FieldError::new(
                "semd_region_code",
                "semd_region_code_format",
            ));
        }
        if s.semd_region_name.chars().count() > 200 {
            errors.push(FieldError::new("semd_region_name", "too_long"));
        }
        if !(1..=240).contains(&s.duty_ack_minutes) {
            errors.push(FieldError::new("duty_ack_minutes", "out_of_range"));
        }
        let hook = s.duty_webhook_url.trim();
        if !hook.is_empty() {
            if let Err(code) = super::duty::check_webhook_url(hook) {
                errors.push(FieldError::new("duty_webhook_url", code));
            }
        }
        if s.duty_webhook_template.chars().count() > 500 {
            errors.push(FieldError::new("duty_webhook_template", "too_long"));
        }
        if s.duty_webhook_secret.chars().count() > 200 {
            errors.push(FieldError::new("duty_webhook_secret", "too_long"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        if s.require_totp_admins && !actor.user.totp_enabled {
            // Turning it on without a second factor of one's own would lock oneself out.
            return Err(ServiceError::field(
                "require_totp_admins",
                "totp_self_first",
            ));
        }
        // The webhook's key is never written to the audit trail.
        let mut shown = s.clone();
        if !shown.duty_webhook_secret.is_empty() {
            shown.duty_webhook_secret = "***".into();
        }
        let changed = changed_settings(&self.region_settings(actor)?, &shown);
        self.db.write(|c| {
            repo::set_deadline_minutes(c, "emergency", s.emergency_minutes)?;
            repo::set_deadline_minutes(c, "urgent", s.urgent_minutes)?;
            repo::set_deadline_minutes(c, "planned", s.planned_minutes)?;
            repo::set_setting(
                c,
                "require_totp_admins",
                if s.require_totp_admins { "1" } else { "0" },
            )?;
            repo::set_setting(
                c,
                "session_idle_minutes",
                &s.session_idle_minutes.to_string(),
            )?;
            repo::set_setting(c, REGION_NAME_SETTING, s.region_name.trim())?;
            repo::set_setting(c, SEMD_MIS_NUMBER_SETTING, mis)?;
            repo::set_setting(c, SEMD_REGION_CODE_SETTING, code)?;
            repo::set_setting(c, SEMD_REGION_NAME_SETTING, s.semd_region_name.trim())?;
            repo::set_setting(
                c,
                SEMD_REQUIRED_SETTING,
                if s.semd_required { "true" } else { "false" },
            )?;
            repo::set_setting(
                c,
                UPLOAD_QUOTA_ORG_SETTING,
                &s.upload_quota_org_mb.to_string(),
            )?;
            repo::set_setting(
                c,
                UPLOAD_QUOTA_USER_SETTING,
                &s.upload_quota_user_mb.to_string(),
            )?;
            repo::set_setting(
                c,
                super::duty::ACK_MINUTES_SETTING,
                &s.duty_ack_minutes.to_string(),
            )?;
            repo::set_setting(c, super::duty::WEBHOOK_URL_SETTING, hook)?;
            repo::set_setting(
                c,
                super::duty::AUTO_URGENT_SETTING,
                if s.duty_auto_urgent { "true" } else { "false" },
            )?;
            repo::set_setting(
                c,
                super::duty::WEBHOOK_TEMPLATE_SETTING,
                s.duty_webhook_template.trim(),
            )?;
            if !s.duty_webhook_secret.is_empty() {
                repo::set_setting(
                    c,
                    super::duty::WEBHOOK_SECRET_SETTING,
                    &s.duty_webhook_secret,
                )?;
            }
            repo::set_setting(
                c,
                ESCALATE_HEAD_SETTING,
                &s.escalate_head_minutes
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            )?;
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                "settings_update",
                ("settings", "region"),
                &serde_json::json!({ "changed": changed }).to_string(),
            )
        })
    }

    /// Replaces МКБ-10 with a newer НСИ release (same CSV format as the shipped one).
    pub fn admin_import_icd10(&self, actor: &Actor, csv_text: &str) -> SResult<usize> {
        self.require_admin(actor)?;
        let rows = reference::parse_icd10_csv(csv_text)
            .map_err(|_| ServiceError::field("file", "csv_format"))?;
        if rows.len() < 1000 {
            return Err(ServiceError::field("file", "icd10_too_small"));
        }
        self.db.write(|c| {
            let n = reference::load_icd10_csv(c, csv_text)?;
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                "icd10_import",
                ("reference", "icd10"),
                &n.to_string(),
            )?;
            Ok(n)
        })
    }
}

/// The settings a change touched, each as `[name, before, after]`: the audit
/// log's record (none of them is a secret).
fn changed_settings(
    before: &RegionSettings,
    after: &RegionSettings,
) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(after).unwrap_or_default(),
    ) else {
        return Vec::new();
    };
    b.into_iter()
        .filter_map(|(k, new)| {
            let old = a.get(&k).cloned().unwrap_or_default();
            (old != new).then_some((k, old, new))
        })
        .collect()
}
