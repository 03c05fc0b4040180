//! What a caller may do on a request besides the transition table's actions:
//! edit the conclusion, open or sign a correction, add their own CMS
//! signature, start a video call. Each rule is one function over the
//! request's facts; the operation that does the thing calls it, and
//! [`Allowed`] (returned with the request page's data) is built from the same
//! functions, so the page offers exactly what the service accepts.

use rtms_domain::{lifecycle, Action, Role, Status};
use rtms_store::models::{AssignedConsultant, Conclusion};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ServiceError;

type SResult<T> = Result<T, ServiceError>;

/// What the rules look at: the request's state and the caller's place in it.
pub struct Facts<'a> {
    pub status: Status,
    /// The caller's roles on this request (`Services::roles_on`).
    pub roles: &'a [Role],
    pub me: i64,
    pub members: &'a [AssignedConsultant],
    /// The current conclusion version, signed or not.
    pub current: Option<&'a Conclusion>,
}

impl Facts<'_> {
    fn member(&self) -> Option<&AssignedConsultant> {
        self.members.iter().find(|m| m.user_id == self.me)
    }

    fn signatures(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.signed_at.is_some())
            .count()
    }

    /// A correction of a signed conclusion is open and nobody has signed it yet.
    fn correction_unsigned(&self) -> bool {
        self.current
            .is_some_and(|k| k.supersedes_id.is_some() && k.signed_at.is_none())
    }

    /// Every member has signed the current version: its document exists.
    pub fn all_signed(&self) -> bool {
        !self.members.is_empty() && self.members.iter().all(|m| m.signed_at.is_some())
    }
}

/// Writing the conclusion (first version, or an open correction before its
/// first signature): a consultant of the request, while nobody has signed.
pub fn may_edit_conclusion(f: &Facts) -> SResult<()> {
    if !f.roles.contains(&Role::Consultant) {
        return Err(ServiceError::Forbidden);
    }
    let correcting = matches!(f.status, Status::Completed | Status::Closed)
        && f.signatures() == 0
        && f.correction_unsigned();
    if !correcting && !lifecycle::conclusion_editable(f.status, f.signatures()) {
        return Err(ServiceError::WrongState {
            status: f.status,
            action: Action::Sign,
        });
    }
    Ok(())
}

/// Opening a correction: a member, once the request is answered and its
/// conclusion signed by every member, with no correction in progress.
pub fn may_correct(f: &Facts) -> SResult<()> {
    if f.member().is_none() {
        return Err(ServiceError::Forbidden);
    }
    if !matches!(f.status, Status::Completed | Status::Closed) {
        return Err(ServiceError::refused("correction_not_now"));
    }
    let current = f.current.ok_or(ServiceError::NotFound)?;
    // A correction in progress (not yet signed by everyone) is finished first.
    if current.signed_at.is_none() || !f.all_signed() {
        return Err(ServiceError::refused("correction_open"));
    }
    Ok(())
}

/// Signing an open correction: a member who has not signed it yet.
pub fn may_sign_correction(f: &Facts) -> SResult<()> {
    let Some(me) = f.member() else {
        return Err(ServiceError::Forbidden);
    };
    let current = f.current.ok_or(ServiceError::NotFound)?;
    if current.supersedes_id.is_none() || me.signed_at.is_some() {
        return Err(ServiceError::refused("correction_none"));
    }
    Ok(())
}

/// Adding one's own CMS signature (УКЭП) to the document: a member who has
/// signed the conclusion in the system.
pub fn may_add_cms(f: &Facts) -> SResult<()> {
    if f.member().is_none_or(|m| m.signed_at.is_none()) {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

/// The states in which a request is being worked on, and a call about it makes sense.
pub const VIDEO_STATES: &[Status] = &[Status::Accepted, Status::Scheduled, Status::InProgress];

/// "Video now": the request's doctor or one of its consultants, while the
/// request is being worked on.
pub fn may_video_now(f: &Facts) -> SResult<()> {
    if !f.roles.contains(&Role::Doctor) && !f.roles.contains(&Role::Consultant) {
        return Err(ServiceError::Forbidden);
    }
    if !VIDEO_STATES.contains(&f.status) {
        return Err(ServiceError::refused("video_not_now"));
    }
    Ok(())
}

/// What the caller may do on the request now: the transition table's
/// actions, and the other things the rules above allow. Pages and API
/// clients show these; the service refuses anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Allowed {
    /// Lifecycle actions (the transition table, with its guards).
    pub actions: Vec<Action>,
    /// Ask or answer in the thread.
    pub write_message: bool,
    pub edit_conclusion: bool,
    pub correct: bool,
    pub sign_correction: bool,
    /// Add one's own CMS signature to the signed document (needs every
    /// member's signature: the document exists only then).
    pub add_cms: bool,
    pub attach: bool,
    pub video_now: bool,
}

impl Allowed {
    /// `actions` as the request's view lists them; `table` the transition
    /// table's whole answer for the caller (with ask and answer, which go by
    /// the thread rather than as actions).
    pub fn of(f: &Facts, actions: Vec<Action>, table: &[Action], attach: bool) -> Allowed {
        Allowed {
            write_message: table.contains(&Action::Ask) || table.contains(&Action::Answer),
            actions,
            edit_conclusion: may_edit_conclusion(f).is_ok(),
            correct: may_correct(f).is_ok(),
            sign_correction: may_sign_correction(f).is_ok(),
            add_cms: may_add_cms(f).is_ok() && f.all_signed(),
            attach,
            video_now: may_video_now(f).is_ok(),
        }
    }
}
