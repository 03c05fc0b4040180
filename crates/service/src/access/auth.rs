//! Passwords, API tokens and who the caller is.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rtms_domain::{OrgKind, Role};
use rtms_store::models::{NewUser, Organization, User};
use rtms_store::repo::{self, Visibility};
use rtms_store::{DbConn, StoreError};

use crate::{ServiceError, Services};

pub const MIN_PASSWORD_LEN: usize = 10;

pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Store(StoreError::Other(e.to_string())))
}

/// Passwords people pick first; refused whatever their length. Our own list of
/// the well-known ones, Latin and Cyrillic keyboard walks included.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "0987654321",
    "1111111111",
    "0000000000",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "asdfghjkl1",
    "zxcvbnm123",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "administrator",
    "admin12345",
    "admin123456",
    "welcome123",
    "letmein123",
    "iloveyou12",
    "football123",
    "baseball123",
    "sunshine123",
    "princess123",
    "dragon1234",
    "monkey12345",
    "trustno1234",
    "abc1234567",
    "abcdefghij",
    "aaaaaaaaaa",
    "q1w2e3r4t5",
    "1qaz2wsx3edc",
    "zaq12wsx34",
    "йцукенгшщз",
    "йцукен1234",
    "фывапролдж",
    "пароль1234",
    "пароль12345",
    "привет1234",
    "qazwsxedcrfv",
    "changeme123",
    "telemedicine",
    "rtms123456",
    "medicine123",
    "doctor1234",
    "hospital123",
];

/// The password policy: long enough, not a well-known one, not the login,
/// not a single repeated character. Returns the error code.
pub fn check_password(login: &str, password: &str) -> Result<(), &'static str> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err("min_length");
    }
    let lower = password.to_lowercase();
    let first = lower.chars().next().unwrap_or(' ');
    if COMMON_PASSWORDS.contains(&lower.as_str())
        || lower.chars().all(|c| c == first)
        || (!login.is_empty() && lower.contains(&login.to_lowercase()))
    {
        return Err("common_password");
    }
    Ok(())
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

/// One role of the caller, in one organization.
#[derive(Debug, Clone)]
pub struct RoleIn {
    pub role: Role,
    pub org: Organization,
}

/// The authenticated caller with every role they hold, and where they call from.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub roles: Vec<RoleIn>,
    /// The client's address, for the audit trail (set by the web layer).
    pub ip: String,
    /// The session or token the caller came with.
    pub token_id: Option<i64>,
    /// What the token allows (`*` for sign-ins; `read`, `write` for API tokens).
    pub scopes: Vec<String>,
}

impl Actor {
    /// Whether the token allows a scope (`read` or `write`).
    pub fn may(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == "*" || s == scope)
    }

    pub fn load(conn: &mut DbConn, user_id: i64) -> Result<Actor, ServiceError> {
        let user = repo::user(conn, user_id)?;
        Actor::of_user(conn, user)
    }

    /// The actor of a user already read: their roles take one statement.
    pub fn of_user(conn: &mut DbConn, user: User) -> Result<Actor, ServiceError> {
        let roles = repo::memberships_with_orgs(conn, user.id)?
            .into_iter()
            .filter_map(|(m, org)| {
                Some(RoleIn {
                    role: Role::parse(&m.role)?,
                    org,
                })
            })
            .collect();
        Ok(Actor {
            user,
            roles,
            ip: String::new(),
            token_id: None,
            scopes: vec!["*".into()],
        })
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
    /// Creates a user (the `rtms admin create-user` command and the demo seed).
    pub fn create_user(&self, new: &NewUserSpec) -> Result<i64, ServiceError> {
        let mut errors = Vec::new();
        if let Err(code) = check_password(&new.login, &new.password) {
            errors.push(rtms_domain::FieldError::new("password", code));
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
                    phone: new.phone.trim(),
                    email: new.email.trim(),
                    locale: "ru",
                    active: true,
                    must_change_password: new.must_change_password,
                    created_at: now,
                    snils: new.snils.as_deref(),
                    position_code: new.position_code.as_deref(),
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
        if let Err(code) = check_password(login, password) {
            return Err(ServiceError::field("password", code));
        }
        let hash = hash_password(password)?;
        self.db.write(|c| {
            let user = repo::user_by_login(c, login)?.ok_or(StoreError::NotFound)?;
            repo::set_password(c, user.id, &hash, temporary)?;
            // A reset also unlocks the account and ends every session and token.
            repo::set_login_failures(c, user.id, 0, None)?;
            let now = self.clock.now().naive_utc();
            for kind in ["session", "api", "pending"] {
                repo::revoke_tokens_of(c, user.id, kind, None, now)?;
            }
            Ok::<(), StoreError>(())
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
    pub phone: String,
    pub email: String,
    pub roles: Vec<(Role, i64)>,
    pub profiles: Vec<String>,
    pub must_change_password: bool,
    /// СНИЛС, 11 digits.
    pub snils: Option<String>,
    /// Position code, НСИ 1.2.643.5.1.13.13.11.1002.
    pub position_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("anything", "not a hash"));
    }
}
