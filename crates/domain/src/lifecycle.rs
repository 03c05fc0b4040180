//! The lifecycle of a consultation request as ONE transition table.
//!
//! Each row: the states it applies in, the action, the roles that may take it,
//! the next state and a guard. For a given state and action the first row whose
//! role matches and whose guard holds wins, so rows with guards come before the
//! unguarded fallback. Handlers never set a status by hand: they call [`decide`].

use crate::kinds::{Action, FormOfCare, Role, Status};
use Action as A;
use Role as R;
use Status as S;

/// A condition on the request beyond its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    Always,
    /// A planned request from an organization whose head approves planned requests.
    NeedsHeadApproval,
    /// An emergency request (or an urgent one, where the region routes
    /// urgent requests too) for which the route table or a duty roster names
    /// a consultation centre.
    EmergencyRouted,
    /// The signer is the last member of the consilium who has not signed yet.
    LastSignature,
}

#[derive(Debug, Clone, Copy)]
pub struct Transition {
    pub from: &'static [Status],
    pub action: Action,
    pub roles: &'static [Role],
    pub to: Status,
    pub guard: Guard,
}

const fn row(
    from: &'static [Status],
    action: Action,
    roles: &'static [Role],
    to: Status,
    guard: Guard,
) -> Transition {
    Transition {
        from,
        action,
        roles,
        to,
        guard,
    }
}

const OPEN_BEFORE_REVIEW: &[Status] = &[
    S::Draft,
    S::AwaitingApproval,
    S::Submitted,
    S::InReview,
    S::Returned,
];

/// The whole lifecycle. PRODUCT.md's table, row for row.
pub const TRANSITIONS: &[Transition] = &[
    row(
        &[S::Draft],
        A::Submit,
        &[R::Doctor],
        S::AwaitingApproval,
        Guard::NeedsHeadApproval,
    ),
    row(
        &[S::Draft],
        A::Submit,
        &[R::Doctor],
        S::Assigned,
        Guard::EmergencyRouted,
    ),
    row(
        &[S::Draft],
        A::Submit,
        &[R::Doctor],
        S::Submitted,
        Guard::Always,
    ),
    row(
        &[S::AwaitingApproval],
        A::Approve,
        &[R::Head],
        S::Submitted,
        Guard::Always,
    ),
    row(
        &[S::AwaitingApproval],
        A::SendBack,
        &[R::Head],
        S::Draft,
        Guard::Always,
    ),
    row(
        &[S::Submitted],
        A::Take,
        &[R::Dispatcher],
        S::InReview,
        Guard::Always,
    ),
    row(
        &[S::InReview],
        A::Return,
        &[R::Dispatcher],
        S::Returned,
        Guard::Always,
    ),
    row(
        &[S::Returned],
        A::Resubmit,
        &[R::Doctor],
        S::Submitted,
        Guard::Always,
    ),
    row(
        &[S::InReview],
        A::Reject,
        &[R::Dispatcher],
        S::Rejected,
        Guard::Always,
    ),
    row(
        &[S::InReview],
        A::Assign,
        &[R::Dispatcher],
        S::Assigned,
        Guard::Always,
    ),
    row(
        &[S::Assigned],
        A::Assign,
        &[R::Dispatcher, R::Coordinator],
        S::Assigned,
        Guard::Always,
    ),
    row(
        &[S::Assigned],
        A::Accept,
        &[R::Consultant],
        S::Accepted,
        Guard::Always,
    ),
    row(
        &[S::Assigned],
        A::Decline,
        &[R::Consultant],
        S::InReview,
        Guard::Always,
    ),
    row(
        &[S::Accepted, S::Scheduled],
        A::Schedule,
        &[R::Dispatcher, R::Coordinator],
        S::Scheduled,
        Guard::Always,
    ),
    row(
        &[S::Accepted, S::Scheduled],
        A::Start,
        &[R::Consultant],
        S::InProgress,
        Guard::Always,
    ),
    row(
        &[S::InProgress],
        A::Ask,
        &[R::Consultant],
        S::InProgress,
        Guard::Always,
    ),
    row(
        &[S::InProgress],
        A::Answer,
        &[R::Doctor],
        S::InProgress,
        Guard::Always,
    ),
    row(
        &[S::InProgress],
        A::Sign,
        &[R::Consultant],
        S::Completed,
        Guard::LastSignature,
    ),
    row(
        &[S::InProgress],
        A::Sign,
        &[R::Consultant],
        S::InProgress,
        Guard::Always,
    ),
    row(
        &[S::Completed],
        A::Acknowledge,
        &[R::Doctor],
        S::Closed,
        Guard::Always,
    ),
    row(
        &[S::InReview, S::Assigned, S::Accepted],
        A::Escalate,
        &[R::Dispatcher],
        S::Escalated,
        Guard::Always,
    ),
    row(
        &[S::Escalated],
        A::RecordFederalConclusion,
        &[R::Dispatcher],
        S::Completed,
        Guard::Always,
    ),
    row(
        OPEN_BEFORE_REVIEW,
        A::Cancel,
        &[R::Doctor],
        S::Cancelled,
        Guard::Always,
    ),
];

/// Facts about the request that the guards need, gathered by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardContext {
    pub form: FormOfCare,
    pub requires_head_approval: bool,
    pub route_found: bool,
    /// The region routes urgent requests like emergencies (to the consultant
    /// on duty, without the dispatcher).
    pub urgent_routed: bool,
    /// Consilium members (the signer included) who have not signed yet.
    pub unsigned_members: usize,
}

impl Guard {
    pub fn holds(self, ctx: &GuardContext) -> bool {
        match self {
            Guard::Always => true,
            Guard::NeedsHeadApproval => {
                ctx.form == FormOfCare::Planned && ctx.requires_head_approval
            }
            Guard::EmergencyRouted => {
                ctx.route_found
                    && (ctx.form == FormOfCare::Emergency
                        || (ctx.form == FormOfCare::Urgent && ctx.urgent_routed))
            }
            Guard::LastSignature => ctx.unsigned_members <= 1,
        }
    }
}

/// What happens to the deadline clock on a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockEffect {
    None,
    Start,
    Pause,
    Resume,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub from: Status,
    pub to: Status,
    /// The role under which the actor acts (recorded in the event).
    pub role: Role,
    pub clock: ClockEffect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// No row allows this action in this state, for anybody.
    #[error("action {action} is not possible in state {status}")]
    NotInThisState { status: Status, action: Action },
    /// Rows exist but none for the roles the actor holds on this request.
    #[error("action {action} is not allowed for this user")]
    Forbidden { status: Status, action: Action },
}

/// Decides a transition. `roles` are the roles the actor holds *on this request*
/// (a doctor of the requesting organization, a consultant assigned to it…);
/// the caller resolves that scope.
pub fn decide(
    status: Status,
    action: Action,
    roles: &[Role],
    ctx: &GuardContext,
) -> Result<Decision, TransitionError> {
    let mut rows = TRANSITIONS
        .iter()
        .filter(|t| t.action == action && t.from.contains(&status))
        .peekable();
    if rows.peek().is_none() {
        return Err(TransitionError::NotInThisState { status, action });
    }
    for t in rows {
        let Some(role) = t.roles.iter().copied().find(|r| roles.contains(r)) else {
            continue;
        };
        if t.guard.holds(ctx) {
            return Ok(Decision {
                from: status,
                to: t.to,
                role,
                clock: clock_effect(status, t.to),
            });
        }
    }
    Err(TransitionError::Forbidden { status, action })
}

fn clock_effect(from: Status, to: Status) -> ClockEffect {
    match (from, to) {
        (S::Draft | S::AwaitingApproval, S::Submitted | S::Assigned) => ClockEffect::Start,
        (_, S::Returned) => ClockEffect::Pause,
        (S::Returned, _) => ClockEffect::Resume,
        _ => ClockEffect::None,
    }
}

/// The actions the holder of `roles` may take now; for buttons and the API.
pub fn available_actions(status: Status, roles: &[Role], ctx: &GuardContext) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    for t in TRANSITIONS {
        if t.from.contains(&status)
            && t.roles.iter().any(|r| roles.contains(r))
            && !out.contains(&t.action)
            && decide(status, t.action, roles, ctx).is_ok()
        {
            out.push(t.action);
        }
    }
    out
}

/// The requesting doctor may edit the request only before the region has it,
/// or when it was returned for revision.
pub fn editable_by_requester(status: Status) -> bool {
    matches!(status, S::Draft | S::Returned)
}

/// A conclusion may be written while the consultation is in progress and
/// nobody has signed it yet; a signature freezes it.
pub fn conclusion_editable(status: Status, signatures: usize) -> bool {
    status == S::InProgress && signatures == 0
}

/// Every state some row leads to, plus `draft` where a request starts.
pub fn reachable_states() -> Vec<Status> {
    let mut out = vec![S::Draft];
    for t in TRANSITIONS {
        if !out.contains(&t.to) {
            out.push(t.to);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(form: FormOfCare) -> GuardContext {
        GuardContext {
            form,
            requires_head_approval: false,
            route_found: true,
            urgent_routed: false,
            unsigned_members: 1,
        }
    }

    #[test]
    fn emergency_with_a_route_skips_the_dispatcher() {
        let d = decide(
            S::Draft,
            A::Submit,
            &[R::Doctor],
            &ctx(FormOfCare::Emergency),
        )
        .unwrap();
        assert_eq!(d.to, S::Assigned);
        assert_eq!(d.clock, ClockEffect::Start);
        let no_route = GuardContext {
            route_found: false,
            ..ctx(FormOfCare::Emergency)
        };
        assert_eq!(
            decide(S::Draft, A::Submit, &[R::Doctor], &no_route)
                .unwrap()
                .to,
            S::Submitted
        );
    }

    #[test]
    fn urgent_requests_are_routed_only_where_the_region_says_so() {
        let urgent = ctx(FormOfCare::Urgent);
        assert_eq!(
            decide(S::Draft, A::Submit, &[R::Doctor], &urgent)
                .unwrap()
                .to,
            S::Submitted
        );
        let routed = GuardContext {
            urgent_routed: true,
            ..urgent
        };
        assert_eq!(
            decide(S::Draft, A::Submit, &[R::Doctor], &routed)
                .unwrap()
                .to,
            S::Assigned
        );
        let planned = GuardContext {
            urgent_routed: true,
            ..ctx(FormOfCare::Planned)
        };
        assert_eq!(
            decide(S::Draft, A::Submit, &[R::Doctor], &planned)
                .unwrap()
                .to,
            S::Submitted
        );
    }

    #[test]
    fn planned_request_waits_for_the_head_when_required() {
        let c = GuardContext {
            requires_head_approval: true,
            ..ctx(FormOfCare::Planned)
        };
        assert_eq!(
            decide(S::Draft, A::Submit, &[R::Doctor], &c).unwrap().to,
            S::AwaitingApproval
        );
        let urgent = GuardContext {
            requires_head_approval: true,
            ..ctx(FormOfCare::Urgent)
        };
        assert_eq!(
            decide(S::Draft, A::Submit, &[R::Doctor], &urgent)
                .unwrap()
                .to,
            S::Submitted
        );
    }

    #[test]
    fn wrong_state_is_a_conflict_and_wrong_role_is_forbidden() {
        let c = ctx(FormOfCare::Planned);
        assert!(matches!(
            decide(S::Draft, A::Take, &[R::Dispatcher], &c),
            Err(TransitionError::NotInThisState { .. })
        ));
        assert!(matches!(
            decide(S::Submitted, A::Take, &[R::Doctor], &c),
            Err(TransitionError::Forbidden { .. })
        ));
    }

    #[test]
    fn consilium_completes_with_the_last_signature() {
        let two_left = GuardContext {
            unsigned_members: 2,
            ..ctx(FormOfCare::Planned)
        };
        assert_eq!(
            decide(S::InProgress, A::Sign, &[R::Consultant], &two_left)
                .unwrap()
                .to,
            S::InProgress
        );
        let last = ctx(FormOfCare::Planned);
        assert_eq!(
            decide(S::InProgress, A::Sign, &[R::Consultant], &last)
                .unwrap()
                .to,
            S::Completed
        );
    }

    #[test]
    fn return_pauses_and_resubmit_resumes_the_clock() {
        let c = ctx(FormOfCare::Urgent);
        assert_eq!(
            decide(S::InReview, A::Return, &[R::Dispatcher], &c)
                .unwrap()
                .clock,
            ClockEffect::Pause
        );
        assert_eq!(
            decide(S::Returned, A::Resubmit, &[R::Doctor], &c)
                .unwrap()
                .clock,
            ClockEffect::Resume
        );
    }

    #[test]
    fn dispatcher_sees_triage_actions_on_a_request_in_review() {
        let acts = available_actions(S::InReview, &[R::Dispatcher], &ctx(FormOfCare::Planned));
        assert_eq!(acts, vec![A::Return, A::Reject, A::Assign, A::Escalate]);
    }
}
