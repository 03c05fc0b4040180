//! Passwords, API tokens and who the caller is.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::Duration;
use rand::RngCore;
use rtms_domain::{OrgKind, Role};
use rtms_store::models::{NewUser, Organization, User};
use rtms_store::repo::{self, Visibility};
use rtms_store::{DbConn, StoreError};
use sha2::{Digest, Sha256};

use crate::{ServiceError, Services};

/// How long an API token issued at login lives.
pub const TOKEN_LIFETIME_HOURS: i64 = 12;
pub const MIN_PASSWORD_LEN: usize = 10;

pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Store(StoreError::Other(e.to_string())))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// One role of the caller, in one organization.
#[derive(Debug, Clone)]
pub struct RoleIn {
    pub role: Role,
    pub org: Organization,
}

/// The authenticated caller with every role they hold.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub roles: Vec<RoleIn>,
}

impl Actor {
    pub fn load(conn: &mut DbConn, user_id: i64) -> Result<Actor, ServiceError> {
        let user = repo::user(conn, user_id)?;
        let mut roles = Vec::new();
        for m in repo::memberships_of(conn, user_id)? {
            let (Some(role), Ok(org)) = (
                Role::parse(&m.role),
                repo::organization(conn, m.organization_id),
            ) else {
                continue;
            };
            roles.push(RoleIn { role, org });
        }
        Ok(Actor { user, roles })
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r.role == role)
    }

    pub fn orgs_with(&self, role: Role) -> Vec<i64> {
        self.roles
            .iter()
            .filter(|r| r.role == role)
            .map(|r| r.org.id)
            .collect()
    }

    /// The organization the caller acts for under a role (the first one held).
    pub fn org_for(&self, role: Role) -> Option<&Organization> {
        self.roles.iter().find(|r| r.role == role).map(|r| &r.org)
    }

    /// Dispatchers work in the coordination centre and see the whole region.
    pub fn is_dispatcher(&self) -> bool {
        self.roles.iter().any(|r| {
            r.role == Role::Dispatcher
                && matches!(
                    OrgKind::parse(&r.org.kind),
                    Some(OrgKind::Ktc | OrgKind::Federal)
                )
        })
    }

    pub fn visibility(&self) -> Visibility {
        let mut requesting_orgs = self.orgs_with(Role::Doctor);
        requesting_orgs.extend(self.orgs_with(Role::Head));
        Visibility {
            all: self.is_dispatcher(),
            requesting_orgs,
            assigned_tkcs: self.orgs_with(Role::Coordinator),
            consultant: self.has(Role::Consultant).then_some(self.user.id),
        }
    }

    pub fn has_clinical_role(&self) -> bool {
        self.roles.iter().any(|r| r.role.is_clinical())
    }
}

impl Services {
    /// Checks a login and password and issues an API token.
    pub fn login(&self, login: &str, password: &str) -> Result<(String, Actor), ServiceError> {
        self.sign_in(login, password, "api")
    }

    /// Checks a login and password and issues a token of a kind (`api`, `session`).
    pub fn sign_in(
        &self,
        login: &str,
        password: &str,
        kind: &str,
    ) -> Result<(String, Actor), ServiceError> {
        let now = self.clock.now().naive_utc();
        let user = self.db.read(|c| repo::user_by_login(c, login.trim()))?;
        // Verify against a real hash even for unknown logins, so timing does not tell.
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_string());
        let ok = verify_password(password, &hash);
        let user = match user {
            Some(u) if ok && u.active => u,
            _ => return Err(ServiceError::BadCredentials),
        };
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let token_hash = token_hash(&token);
        let actor = self.db.write(|c| {
            repo::insert_token(
                c,
                user.id,
                &token_hash,
                kind,
                now,
                now + Duration::hours(TOKEN_LIFETIME_HOURS),
            )?;
            Actor::load(c, user.id).map_err(|e| match e {
                ServiceError::Store(s) => s,
                other => StoreError::Other(other.to_string()),
            })
        })?;
        Ok((token, actor))
    }

    /// The caller behind a bearer token.
    pub fn authenticate(&self, token: &str) -> Result<Actor, ServiceError> {
        let now = self.clock.now().naive_utc();
        let hash = token_hash(token);
        let mut conn = self.db.conn()?;
        let user_id =
            repo::token_user(&mut conn, &hash, now)?.ok_or(ServiceError::Unauthenticated)?;
        let actor = Actor::load(&mut conn, user_id)?;
        if !actor.user.active {
            return Err(ServiceError::Unauthenticated);
        }
        Ok(actor)
    }

    /// Ends a session or revokes a token.
    pub fn sign_out(&self, token: &str) -> Result<(), ServiceError> {
        let now = self.clock.now().naive_utc();
        let hash = token_hash(token);
        self.db.write(|c| repo::revoke_token(c, &hash, now))?;
        Ok(())
    }

    /// Changes the caller's own password after checking the current one.
    pub fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        if !verify_password(current, &actor.user.password_hash) {
            return Err(ServiceError::field("current_password", "wrong_password"));
        }
        if new.chars().count() < MIN_PASSWORD_LEN {
            return Err(ServiceError::field("new_password", "min_length"));
        }
        if new == current {
            return Err(ServiceError::field("new_password", "same_password"));
        }
        let hash = hash_password(new)?;
        self.db
            .write(|c| repo::set_password(c, actor.user.id, &hash, false))?;
        Ok(())
    }

    pub fn set_locale(&self, actor: &Actor, locale: &str) -> Result<(), ServiceError> {
        let locale = if locale == "en" { "en" } else { "ru" };
        self.db
            .write(|c| repo::set_locale(c, actor.user.id, locale))?;
        Ok(())
    }

    /// Creates a user (the `rtms admin create-user` command and the demo seed).
    pub fn create_user(&self, new: &NewUserSpec) -> Result<i64, ServiceError> {
        let mut errors = Vec::new();
        if new.password.chars().count() < MIN_PASSWORD_LEN {
            errors.push(rtms_domain::FieldError::new("password", "min_length"));
        }
        if new.login.trim().is_empty() {
            errors.push(rtms_domain::FieldError::new("login", "required"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let hash = hash_password(&new.password)?;
        self.insert_user_with_hash(new, &hash)
    }

    pub fn insert_user_with_hash(
        &self,
        new: &NewUserSpec,
        hash: &str,
    ) -> Result<i64, ServiceError> {
        let now = self.clock.now().naive_utc();
        let result = self.db.write(|c| {
            let id = repo::insert_user(
                c,
                &NewUser {
                    login: new.login.trim(),
                    password_hash: hash,
                    last_name: &new.last_name,
                    first_name: &new.first_name,
                    middle_name: &new.middle_name,
                    position: &new.position,
                    phone: "",
                    email: "",
                    locale: "ru",
                    active: true,
                    must_change_password: new.must_change_password,
                    created_at: now,
                },
            )?;
            for (role, org) in &new.roles {
                repo::add_membership(c, id, *org, role.as_str())?;
            }
            for p in &new.profiles {
                repo::add_user_profile(c, id, p)?;
            }
            Ok(id)
        });
        match result {
            Err(StoreError::Duplicate) => Err(ServiceError::field("login", "login_taken")),
            other => Ok(other?),
        }
    }

    /// Sets a new password; `temporary` makes the user change it at next sign-in.
    pub fn reset_password(
        &self,
        login: &str,
        password: &str,
        temporary: bool,
    ) -> Result<(), ServiceError> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(ServiceError::field("password", "min_length"));
        }
        let hash = hash_password(password)?;
        self.db.write(|c| {
            let user = repo::user_by_login(c, login)?.ok_or(StoreError::NotFound)?;
            repo::set_password(c, user.id, &hash, temporary)
        })?;
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewUserSpec {
    pub login: String,
    pub password: String,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub position: String,
    pub roles: Vec<(Role, i64)>,
    pub profiles: Vec<String>,
    pub must_change_password: bool,
}

/// A valid argon2id hash of a random string, checked against when the login is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0U1Ffo6vJ7fWlR3H6V6E3yV7y8C8gJmQ0T9V9m1b1yE";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("anything", DUMMY_HASH));
    }
}
