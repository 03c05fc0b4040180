# The audit log as sentences (service/src/audit_text.rs). Every action
# message gets $who ("Dispatcher Orlova M. I."), $id (the object's number),
# $object (its name where it has one) and $login; Russian also selects the
# verb's form on $gender. What follows the colon is worded below.

audit-who = { $role } { $name }
audit-other = { $who }: { $action } { $object }
audit-user-named = { $name } ({ $login })
audit-user-id = user No. { $id }
audit-org-id = organization No. { $id }
audit-and-more = { " " }and { $count } more

audit-view-consultation = { $who } opened request No. { $id }
audit-view-consultation-list = { $who } viewed the list of requests
audit-view-consultation-events = { $who } viewed the history of request No. { $id }
audit-view-consultation-messages = { $who } read the messages of request No. { $id }
audit-view-conclusion = { $who } read the conclusion of request No. { $id }
audit-view-attachment-list = { $who } viewed the files of request No. { $id }
audit-view-attachment = { $who } viewed the images of file No. { $id }

audit-create = { $who } created the draft of request No. { $id }
audit-update = { $who } edited the draft of request No. { $id }
audit-submit = { $who } submitted request No. { $id }
audit-approve = { $who } approved request No. { $id }
audit-send-back = { $who } sent request No. { $id } back to the doctor unapproved
audit-take = { $who } took request No. { $id } into review
audit-return = { $who } returned request No. { $id } for more information
audit-resubmit = { $who } resubmitted request No. { $id }
audit-reject = { $who } rejected request No. { $id }
audit-assign = { $who } assigned a consultant to request No. { $id }
audit-accept = { $who } accepted request No. { $id }
audit-decline = { $who } declined request No. { $id }
audit-schedule = { $who } scheduled a video session for request No. { $id }
audit-start = { $who } started the consultation on request No. { $id }
audit-ask = { $who } asked a question on request No. { $id }
audit-answer = { $who } answered a question on request No. { $id }
audit-sign = { $who } signed the conclusion of request No. { $id }
audit-acknowledge = { $who } acknowledged the conclusion of request No. { $id }
audit-escalate = { $who } escalated request No. { $id } to the federal level
audit-record-federal-conclusion = { $who } recorded the federal conclusion of request No. { $id }
audit-cancel = { $who } cancelled request No. { $id }
audit-conclusion-write = { $who } saved the conclusion of request No. { $id }
audit-conclusion-correct = { $who } started a correction of the conclusion of request No. { $id }
audit-conclusion-correct-sign = { $who } signed the corrected conclusion of request No. { $id }
audit-attach = { $who } attached a file to request No. { $id }
audit-read-attachment = { $who } opened a file of request No. { $id }
audit-cms-signature-add = { $who } attached a signature to document No. { $id }
audit-federal-resend = { $who } sent request No. { $id } to the federal level again
audit-escalation-package = { $who } built the federal package of request No. { $id }
audit-federal-manual = { $who } recorded the federal level's answer to request No. { $id } by hand
audit-video-book = { $who } booked video session No. { $id }
audit-video-cancel = { $who } cancelled video session No. { $id }

audit-login = { $who } signed in
audit-logout = { $who } signed out
audit-login-failed = Failed sign-in as "{ $login }"
audit-login-refused = Sign-in as "{ $login }" refused
audit-demo-account-disabled = Demo account "{ $login }" switched off
audit-session-end = { $who } ended session No. { $id }
audit-session-end-others = { $who } ended their sessions on other devices
audit-token-create = { $who } issued API token No. { $id }
audit-password-change = { $who } changed their password
audit-totp-enable = { $who } turned on sign-in with one-time codes
audit-calendar-feed-new = { $who } created a link to their video calendar
audit-calendar-feed-revoke = { $who } revoked the link to their video calendar
audit-fhir-subscribe = { $who } subscribed an external system to FHIR notifications (subscription No. { $id })
audit-fhir-unsubscribe = { $who } ended FHIR subscription No. { $id }

audit-user-create = { $who } created the account { $object }
audit-user-update = { $who } edited the account { $object }
audit-user-deactivate = { $who } switched off the account { $object }
audit-user-unlock = { $who } unlocked the account { $object }
audit-password-reset = { $who } reset the password of { $object }
audit-role-add = { $who } granted a role to { $object }
audit-role-remove = { $who } took a role away from { $object }
audit-org-create = { $who } created the organization "{ $object }"
audit-org-update = { $who } edited the organization "{ $object }"
audit-route-set = { $who } changed the route { $object }
audit-settings-update = { $who } changed the region's settings
audit-icd10-import = { $who } loaded a new ICD-10 reference

audit-list-fhir = through FHIR
audit-list-open = all open ones
audit-list-statuses = status: { $list }
audit-list-form = form of care: { $form }
audit-list-profile = profile: { $profile }
audit-list-org = from: { $org }
audit-list-tkc = centre: { $org }
audit-list-overdue = overdue only
audit-list-not-overdue = not overdue only
audit-list-search-number = search by number: { $digits } { $digits ->
    [one] digit
   *[other] digits
}
audit-list-search-name = search by name: { $words } { $words ->
    [one] word
   *[other] words
}, { $chars } { $chars ->
    [one] character
   *[other] characters
}
audit-list-updated = updated { $op } { $at }
audit-list-practitioner = consultant: { $name }
audit-list-owner = held by: { $org }
audit-list-request = request No. { $id }
audit-list-no-filter = no filter
audit-list-found = { $count ->
    [0] nothing found
    [one] { $count } request shown: No. { $ids }
   *[other] { $count } requests shown: No. { $ids }
}
audit-files-shown = { $count ->
    [one] { $count } file: No. { $ids }
   *[other] { $count } files: No. { $ids }
}
audit-page-conclusion = with the conclusion (version { $version })
audit-page-only = the request page
audit-frames = file No. { $attachment }, study { $study }, series { $series } { $title }
audit-version = version { $version }
audit-file-no = file No. { $id }
audit-attached = file No. { $attachment } "{ $name }", { $size }
audit-fields = fields { $list }
audit-nothing-changed = nothing changed
audit-yes = yes
audit-no = no
audit-video-booked = { $starts }, { $minutes } min, participants: { $people }
audit-role-in = "{ $role }" in "{ $org }"
audit-transition = "{ $from }" → "{ $to }"
audit-message-no = message No. { $id }
audit-records = { $count } { $count ->
    [one] record
   *[other] records
}
audit-sessions = { $count } { $count ->
    [one] session
   *[other] sessions
}
audit-files = { $count } { $count ->
    [one] file
   *[other] files
}
audit-reason-unknown-login = no such login, or it is switched off
audit-reason-wrong-password = wrong password
audit-reason-wrong-code = wrong one-time code
audit-reason-locked = the account is locked for a while
audit-reason-needs-code = a one-time code is needed (use an API token)
audit-reason-demo-password = the demo password, at start
audit-duty-ack = { $who } acknowledged emergency request No. { $id }
audit-duty-pass = The consultant on duty did not acknowledge request No. { $id } in time: passed to the backup
audit-duty-alarm = Nobody on duty acknowledged request No. { $id }: alarm to the coordination centre's dispatchers
audit-duty-shift-add = { $who } added a shift to the duty roster
audit-duty-shift-delete = { $who } removed a shift from the duty roster
audit-duty-import = { $who } loaded the duty roster: { $object }
audit-duty-absence-add = { $who } recorded an absence: { $object }
audit-duty-absence-delete = { $who } removed an absence: { $object }
audit-duty-show-phone = { $who } changed whether the duty board shows phones: { $object }
audit-duty-calendar = { $who } loaded the production calendar for { $id }
