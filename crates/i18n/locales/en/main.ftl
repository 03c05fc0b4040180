app-name = RTMS
# The sign before a number («№ 9» / "No. 9").
number-sign = No.
app-subtitle = Regional telemedicine system
lang-switch = Русский
loading = Loading…
save = Save
yes = Yes
no = No
age-years =
    { $count ->
        [one] { $count } year
       *[other] { $count } years
    }
duration-minutes =
    { $count ->
        [one] { $count } minute
       *[other] { $count } minutes
    }
back-to-queue = Back to requests

nav-queue = Requests
nav-new-request = New request
nav-logout = Sign out

login-title = Sign in
login-lead = Sign in with the account your RTMS administrator gave you.
login-login = Login
login-password = Password
login-submit = Sign in
login-failed = Wrong login or password

password-title = Change password
password-must-change = Your password was set by the administrator; choose your own to continue.
password-current = Current password
password-new = New password (at least 10 characters)
password-repeat = New password again
password-mismatch = The passwords do not match
password-changed = Password changed.

err-title = That did not work
err-forbidden = You may not do this.
err-not-found = The request does not exist or is not available to you.
err-wrong-state = Not possible in the current status:
err-concurrent = Someone else just changed this request; reload the page.
err-internal = Internal server error. Please try again.
err-not-saved = Not saved; check the value

notif-title = Notifications
notif-empty = No new notifications.
notif-mark-read = Mark all as read
live-on = Updates live

queue-heading-dispatcher = The region's request queue
queue-heading-coordinator = Consultation centre requests
queue-heading-consultant = Requests assigned to me
queue-heading-doctor = My organization's requests
queue-total = Found
queue-total-more = more than { $count }
queue-empty = No requests match.
filter-search = Patient
filter-search-hint = Name, SNILS or policy
filter-all = All
filter-open = All open
filter-overdue = Overdue only
filter-apply = Apply
page-prev = Back
page-next = Next
awaits-me = awaits you

col-deadline = Deadline
col-form = Form
col-status = Status
col-patient = Patient
col-profile = Profile
col-mo = Organization
col-tkc = Centre

deadline-left = { $left } left
deadline-overdue = { $late } overdue
deadline-paused = paused, { $left } left

patient-unnamed = Patient not given
patient-unidentified = Unidentified patient

edit-title = Request
edit-save = Save draft
edit-submit = Submit request
edit-view = View
edit-saved = Draft saved.
edit-saved-partly = Saved except the fields with errors
edit-autosaved = Saved at
edit-not-sent = Not submitted: fill in the marked fields.
edit-has-errors = Some fields are wrong or missing; they are marked below. Everything you typed is kept.
edit-returned = Returned for revision
required-for-submit = Needed to submit
icd-hint = Start typing a code or a name, e.g. "I21" or "инфаркт".

sec-patient = Patient
sec-consultation = Consultation
sec-diagnosis = Diagnosis
sec-question = Question to the consultant
sec-clinical = Clinical data
sec-consent = Consent and contacts

f-patient-last_name = Last name
f-patient-first_name = First name
f-patient-middle_name = Patronymic
f-patient-birth_date = Date of birth
f-patient-sex = Sex
f-patient-snils = SNILS
f-patient-oms_policy = OMS policy (ENP)
f-patient-address = Address
f-patient-unidentified = Unidentified patient (emergency only)
f-patient-description = Description of the unidentified patient
f-form_of_care = Form of care
f-mode = Mode
f-profile = Profile
f-purpose = Purpose
f-patient_present = The patient is present
f-diagnosis-main = Main diagnosis (ICD-10)
f-diagnosis-text = Diagnosis in words
f-diagnosis-complications = Complications (codes, comma-separated)
f-diagnosis-comorbidities = Comorbidities (codes, comma-separated)
f-question = Question(s) to the consultant
f-anamnesis_morbi = History of present illness
f-anamnesis_vitae = Past history
f-epidemiological_history = Epidemiological history
f-objective_status = Examination
f-vitals-bp_systolic = Systolic BP
f-vitals-bp_diastolic = Diastolic BP
f-vitals-heart_rate = Heart rate, /min
f-vitals-resp_rate = Respiratory rate, /min
f-vitals-spo2 = SpO₂, %
f-vitals-temperature = Temperature, °C
f-lab_results = Laboratory results (with dates)
f-instrumental_results = Imaging and other studies (with dates)
f-current_treatment = Current treatment
f-previous_consultations = Earlier consultations
f-consent_given = Informed consent obtained
f-consent_ground = Ground for proceeding without consent
f-contact_phone = Contact phone

vital-bp = BP
vital-hr = HR
vital-rr = RR
vital-spo2 = SpO₂

req-actions = Actions
req-edit = Complete and submit
req-from = Requested by
req-tkc = Centre
req-consultants = Consultants
req-created = Created
req-submitted = Submitted
req-scheduled = Video session
req-details = Details
req-no-clinical = No clinical data yet.

act-comment = Comment
act-reason = Reason
act-starts-at = Session start
act-duration = Duration, min
act-confirm = Cancel this request?
assign-tkc = Centre
assign-consultant = Consultant
assign-tkc-decides = — the centre's coordinator decides —
assign-route = By the route table
assign-load = open

closeout-lead = Two short questions help the region; you may skip them.
closeout-useful = Was the answer useful?
closeout-effect = What it changed

reason-not-telemedicine-case = Not a case for telemedicine
reason-duplicate = Duplicate request
reason-wrong-profile = Wrong profile
reason-insufficient-data = Not enough data
reason-needs-in-person-care = Needs in-person care
reason-other = Other
reason-no-specialist = No such specialist in the region
reason-insufficient-qualification = Not qualified enough in the region
reason-treatment-adjusted = Treatment adjusted here
reason-transfer-avoided = Transfer avoided
reason-transfer-arranged = Transfer arranged
reason-in-person-visit-needed = In-person visit still needed
reason-no-change = Nothing changed

concl-title = Consultant's conclusion
concl-draft = draft, not visible to the doctor
concl-write = Conclusion
concl-diagnosis = Consultant's diagnosis (ICD-10)
concl-findings = Findings
concl-recommendations = Recommendations
concl-transfer = Transfer / hospitalization (where)
concl-follow-up-needed = A follow-up consultation is needed
concl-follow-up = Follow-up
concl-save = Save draft
concl-sign = Sign the conclusion
concl-signed = Signed

thread-title = Questions and answers
thread-empty = No questions yet.
thread-write = Message
thread-send = Send

timeline-title = Timeline

login-throttled = Too many sign-in attempts. Try again in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
login-code-lead = Enter the code from your authenticator app.
login-code = Verification code
login-code-wrong = Wrong code; try again.
login-again = Please sign in again.

sessions-title = Sessions and API keys
sessions-lead = Where you are signed in, and the keys issued to integrations. End anything you do not recognise.
sessions-what = Session
sessions-created = Started
sessions-seen = Last active
sessions-expires = Expires
sessions-ip = Address
sessions-api = API key
sessions-current = this session
sessions-end = End
sessions-end-others = End all other sessions
token-new = New API key for an integration
token-name = Name (e.g. the hospital's information system)
token-scopes = Rights
token-scope-read = read
token-scope-write = change
token-days = Valid for, days
token-create = Issue the key
token-created = Key issued. Copy it now; it will not be shown again:

totp-title = Two-factor authentication
totp-manage = Set up sign-in with an app code
totp-lead = Scan the code with an authenticator app and type the six-digit code to turn on sign-in with confirmation.
totp-secret = Or type the key by hand
totp-confirm = Turn on
totp-on = Sign-in with an app code is on.
totp-required = The region requires a second factor for administrators; turn it on to continue.
totp-begin-lead = Signing in will ask for a six-digit code from an authenticator app on your phone. Press the button to get the key for the app.
totp-begin = Get a key
totp-begin-again = Issue another key

nav-admin = Administration
saved = Saved.
edit = Edit
remove = Remove
admin-users = Users
admin-orgs = Organizations
admin-routes = Routing
admin-settings = Region settings
admin-import-failed = The file could not be read.
admin-icd10-loaded = ICD-10 codes loaded
org-name = Name
org-short = Short name
org-kind = Kind
org-level = Level
org-oid = FRMO OID
org-tz = Time zone
org-approval = The head approves planned requests
org-active = Active
org-new = New organization
org-edit = Edit organization
user-login = Login
user-name = Name
user-roles = Roles
user-state = State
user-inactive = deactivated
user-active = active
user-must-change = awaiting password change
user-new = New user
user-position = Position
user-role = Role
user-org = Organization
user-profiles = Profiles (consultants)
user-create = Create
user-created = User created
user-temp-password = Temporary password
user-temp-hint = Give it to the user: at first sign-in they will be asked to choose their own.
user-import = Import from CSV
user-import-hint = The first line holds the column names; organization is an id or a short name; profiles separated by ";". Each row is checked on its own.
user-import-run = Import
import-line = Line
import-result = Result
user-card = Card
user-active-box = The account is active (deactivating keeps all history)
user-reset-password = Issue a temporary password
user-add-role = Add role
user-locked = Sign-in locked after failed attempts until
user-unlock = Unlock sign-in
routes-lead = For each profile and form of care, the consultation centre that takes the request. Emergency requests go straight by this table.
settings-deadlines = Answer deadlines, minutes
settings-emergency = Emergency
settings-urgent = Urgent
settings-planned = Planned
settings-uploads = Attachments
settings-quota-org = Organization quota, MB
settings-quota-user = User quota, MB
settings-quota-hint = How much the files of one organization's staff and of one user may take, uploads in progress included. 0: no limit. Defaults: 1,048,576 MB (1 TB) and 102,400 MB (100 GB).
settings-security = Sign-in
settings-idle = End a session after inactivity, minutes
settings-totp = Require a second factor from administrators
settings-icd10 = ICD-10 reference
settings-icd10-hint = A new release of the NSI reference (OID 1.2.643.5.1.13.13.11.1005) as CSV replaces the current one.
settings-icd10-load = Load the reference
settings-escalate-head = Alert the coordination centre's head about an overdue request after, min
settings-escalate-head-hint = Empty: never; 0: as soon as the deadline passes.
audit-title = Audit log
audit-csv = Export CSV
audit-action = Action
audit-object = Object
audit-from = From
audit-to = To
audit-time = Time
audit-who-col = Who
audit-event = Event

date-placeholder = DD.MM.YYYY
per-min = /min
token-name-example = Hospital information system

nav-reports = Reports
report-title = Telemedicine consultations report
report-csv = Export CSV
report-submitted = Submitted
report-answered = With a conclusion
report-open = Open
report-overdue-open = Overdue now
report-returned = Returned for revision
report-compliance = Deadline compliance
report-in-time = In time
report-median = Median, h
report-p90 = 90th percentile, h
report-by-form = By form of care
report-by-profile = By profile
report-by-mo = By medical organization
report-by-tkc = By consultation centre
report-by-status = By status
report-rejections = Rejections by reason
report-escalations = Escalations to the federal level
report-escalations-answered = Of them answered
report-closeout = Doctors' close-out
report-acknowledged = Conclusions acknowledged
report-useful-yes = The answer was useful
report-useful-no = The answer did not help
report-skipped = Not rated
report-effects = What it changed
report-workload = Consultant workload
report-video = Video sessions
report-video-booked = Sessions booked
report-video-held = Sessions held
report-video-cancelled = Sessions cancelled
report-video-minutes = Minutes on air
report-video-person-minutes = Participant minutes (summed)
report-assigned = Assigned
report-none = No data for the period.
report-xlsx = Download XLSX
report-pdf = Printable report (PDF)
report-printed = Printed
report-period = Period
report-summary = Summary
report-escalated = Escalated to the federal level
report-in-time-percent = In time, %
report-col-name = Name
report-col-count = Count
report-col-figure = Figure
report-col-value = Value
report-col-form = Form of care
report-col-consultant = Consultant

email-title = Notifications by e-mail
email-none = No e-mail address on file; the administrator enters it.

## Attachments and the DICOM viewer
files-title = Files
files-empty = No files yet.
files-add = Attach files…
files-hint = PDF, JPEG, PNG, DICOM (or a ZIP of a study), MP4, DOCX, XLSX; at most
files-view = View
upload-waiting = waiting
upload-sending = uploading
upload-checking = checking the file…
upload-done = uploaded
upload-retrying = connection lost, retrying in a few seconds…
upload-failed = not uploaded
upload-too-large = The file is larger than allowed
upload-leave = An upload is still running. Leave the page? It resumes where it stopped when you choose the same file again.
viewer-title = Study viewer
viewer-back = Back to the request
viewer-series = Series
viewer-images =
    { $count ->
        [one] { $count } image
       *[other] { $count } images
    }
viewer-image = Image
viewer-frame = Frame
viewer-window = Window
viewer-preset-default = From the file
viewer-preset-lung = Lung
viewer-preset-mediastinum = Mediastinum
viewer-preset-bone = Bone
viewer-preset-brain = Brain
viewer-keys = Mouse wheel or ↑↓ arrows page through images; 1–5 pick a window.
viewer-patient = Patient
viewer-study = Study
viewer-download = Download the file
viewer-loading = Loading…
viewer-error = The image could not be shown
dicom-error = The study could not be read:
dicom-error-not-dicom = this is not a DICOM file.
dicom-error-unsupported = its image compression is not supported (the file can be downloaded).
dicom-error-no-image = the file holds no image.
dicom-error-nesting = sequences are nested deeper than { $limit ->
        [one] { $limit } level
       *[other] { $limit } levels
    }.
dicom-error-length = an element declares a length larger than the file itself.
dicom-error-elements = the file has more than { $limit ->
        [one] { $limit } data element
       *[other] { $limit } data elements
    }.
dicom-error-truncated = the file is truncated (not uploaded completely).
dicom-error-zip-entries = the archive has more than { $limit ->
        [one] { $limit } file
       *[other] { $limit } files
    }.
dicom-error-zip-size = the archive unpacks to more than { $limit } MB.
dicom-error-zip-ratio = a file in the archive is compressed more than { $limit ->
        [one] { $limit } time
       *[other] { $limit } times
    } (it looks like a zip bomb).
dicom-error-zip-broken = the ZIP archive is damaged.
dicom-error-crashed = reading the file failed abnormally; it is not tried again.
dicom-error-timeout = reading the file took too long and was stopped.
dicom-error-invalid = the DICOM file is damaged.
doc-open-pdf = Open the conclusion (PDF)
doc-seal = Download the seal (.seal.json)
doc-verify-link = Verify a document
verify-title = Document verification
verify-lead = Choose a conclusion PDF issued by the system. The check shows whether it was issued here and is unchanged since it was signed.
verify-file = PDF file
verify-submit = Verify
verify-valid = The document is authentic and unchanged
verify-invalid = The document failed verification
verify-number = Request No.
verify-version = version
verify-sealed = Sealed
verify-key = Seal key
verify-no-file = Choose a file to verify
rate-limited = Too many requests from your address. Try again in { $seconds ->
        [one] { $seconds } second
       *[other] { $seconds } seconds
    }.
verify-too-large = The file is larger than { $mb } MB. A conclusion issued by the system is much smaller: check that you chose the right file.
email-instant = At once, for every event
email-address = Address:
email-mode = How to send
email-off = Do not send
email-digest = Once a day, a digest of the previous day
email-kinds = Which events to e-mail
## Video sessions
nav-video = Video sessions
video-title = Video sessions
video-room-title = Video session
video-state-connecting = Connecting…
video-reconnecting = Lost the server, reconnecting…
video-no-camera = No camera: the others will only hear you
video-no-webrtc = This browser cannot do video calls (WebRTC). Open the room in Chrome, Yandex Browser, Firefox, Edge or Safari; the request and its thread work here too.
video-you = You
video-mic-off = Mute microphone
video-mic-on = Unmute microphone
video-cam-off = Turn camera off
video-cam-on = Turn camera on
video-screen = Share screen
video-screen-stop = Stop sharing
video-leave = Leave the room
video-participants = Participants
video-absent = not in the room
video-request = Request
video-thread = Questions and answers
video-log = Session log
video-joined = joined
video-left = left
video-earlier = Earlier
video-later = Later
video-day = Day
video-week = Week
video-none = No video sessions
video-open-room = Enter the room
video-cancel = Cancel session
video-cancel-confirm = Cancel this video session? The participants will be told.
video-cancelled = Cancelled
video-feed = Calendar for your calendar program (iCalendar; keep the link secret)
video-feed-new = A new link: copy it now, it will not be shown again:
video-feed-until = The calendar link works until
video-feed-revoke = Revoke the link
video-feed-make = Make a new link
video-durations = Time in the room
video-now = Video call now
video-state-connected = connected
video-state-lost = connection lost
video-alone = Nobody else is in the room yet
video-present = in the room
check-title = Connection test for video sessions
check-intro = Check your camera, microphone and the path to the video server before a session. If the TURN check fails, tell your network administrator: the RTMS server must be reachable on TCP/UDP 3478 and 5349.
check-camera = Camera
check-mic = Microphone
check-server = RTMS server
check-turn = Video through TURN
check-running = checking…
check-ok = Works
check-fail = Does not work
check-no-devices = no camera or microphone found
check-denied = the browser refused access to the camera and microphone: allow it in the site settings
check-sound = sound detected
check-no-sound = no sound heard: check that the microphone is not muted
check-server-ok = the server answers
check-server-fail = the server does not answer
check-no-turn = no TURN server is configured: video works only inside one network
check-turn-ok = video will pass even through a closed network
check-turn-fail = the TURN server cannot be reached from this network
check-again = Check again
video-check-link = Connection test
org-video-link = External video system (hardware terminals)
org-video-link-hint = A link to the external system's room; { "{session}" } is the session number, { "{room}" } the room, { "{title}" } the subject. The organization's users see it instead of the built-in room. Empty: the built-in room.
video-external = Room in the external video system
video-open-external = Open in the external system
video-builtin-anyway = Enter the built-in room
settings-region-name = Name of the region
settings-region-name-example = Ministry of Health of the N Region
settings-region-name-hint = Printed at the head of consultation protocols and reports.
req-summary-pdf = Printable summary of the request (PDF)
cms-title = Signers' own electronic signatures (CMS)
cms-valid = signature valid: every check below holds
cms-not-valid = signature not valid: not every check below holds
cms-v-integrity-ok = the signature matches the document
cms-v-integrity-bad = the signature does not match the document
cms-v-integrity-unchecked = not checked against the document
cms-v-trust-trusted = the certificate was issued by a trusted certification authority
cms-v-trust-unknown_root = the certificate was issued by an untrusted certification authority, or is self-signed
cms-v-trust-untrusted = the certificate chain does not verify
cms-v-trust-unchecked = the certificate chain was not checked
cms-v-time-valid_at_signing = the certificate was valid at the time of signing
cms-v-time-expired = the certificate had expired by the time of signing
cms-v-time-not_yet_valid = the certificate was not yet valid at the time of signing
cms-v-revocation-not_revoked = the certificate is not revoked (by its authority's revocation list)
cms-v-revocation-revoked = the certificate was revoked by its authority
cms-v-revocation-unknown = revocation not checked: no revocation list of this authority
cms-v-signer-matches = the certificate was issued to this user: SNILS and name match
cms-v-signer-mismatch = the certificate was issued to someone else: SNILS or name differ
cms-v-signer-unknown = holder not matched: the certificate or the user's profile lacks SNILS or name
cms-unsupported = signature kept but not checked: this server cannot check its algorithm
cms-certificate = certificate
cms-valid-until = valid until
ukep-sign = Sign with qualified signature
ukep-cert = Certificate to sign with
ukep-hint = Signs the conclusion's PDF, the exact bytes the system keeps; needs the CryptoPro CAdES browser plug-in and a token with your certificate.
ukep-hint-semd = Signs the conclusion's PDF and its SEMD, the exact bytes the system keeps; needs the CryptoPro CAdES browser plug-in and a token with your certificate.
ukep-absent = The CryptoPro CAdES browser plug-in is not in this browser. Install CryptoPro CSP and the browser extension, or sign the PDF in your own program and attach the signature below.
ukep-reading = Reading certificates…
ukep-none = No valid certificate with a private key. Connect your token (Rutoken, JaCarta) and press again.
ukep-choose = Choose a certificate and press the button again.
ukep-until = valid until
ukep-signing = Signing… CryptoPro may ask for the token's PIN.
ukep-done = Signature attached; the page will show how it checked out.
ukep-failed = Signing failed
ukep-refused = the server did not accept the signature
cms-add = Your own electronic signature (.sig, .p7s):
cms-upload = Attach signature
cms-hint = Sign the downloaded PDF with a detached signature in your own program (CryptoARM, CryptoPro, OpenSSL).
concl-versions = Versions of the conclusion
concl-version = version
concl-correct = Correct the signed conclusion
concl-correct-hint = A signed conclusion is never changed: a new version referencing this one is made. Every participant signs it, the doctor is told, and the earlier version stays available.
concl-correct-reason = What is corrected and why
concl-correct-open = Open a correction
concl-correction-title = Correction of the conclusion (a new version)
concl-correction-waits = A correction of the conclusion waits for your signature.
concl-correction-sign = Sign the correction
thread-attach = Attach a file to this message
token-scope-fhir = FHIR R4 (/fhir/r4): for hospital systems and the federal level
esc-title = Federal level
esc-state = Transfer
esc-number = Request number at the federal level
esc-federal-status = State there
esc-next = next attempt
esc-pending = waiting to be sent
esc-delivered = delivered, waiting for the answer
esc-completed = answer received
esc-failed = not delivered, will retry
esc-stopped = not sent: the request is no longer escalated
req-package = Package for the federal level (ZIP: summary, FHIR, files)
esc-manual-hint = If the region is not connected to the federal system: send the request package, record the federal number and state here, and attach the returned protocol to the request's files.
esc-manual-save = Record
esc-manual = recorded by hand
esc-resend = Send now
esc-overdue = Not delivered to the federal level since
esc-alarm-title = Not delivered to the federal level: check the link to the federal centre or send the package by other means
esc-alarm-since = waiting since
esc-alarm-request = Request No.

# Role changes (separation of duties)
role-changes = Recent role changes
role-changes-hint = Every role granted or taken away is written to the audit trail and shown to every administrator. Nobody grants themself a clinical or auditor role: another administrator does.
role-changes-none = No role changes yet.
role-changes-at = When
role-changes-by = Changed by
role-changes-what = What
role-change-add = role granted
role-change-remove = role taken away
role-change-user = user created

# SEMD (consultation protocol)
semd-title = SEMD (consultation protocol)
semd-print = Print form
semd-xml = Download XML
semd-status-created = built
semd-status-signed = signed by every consultant
semd-status-sent = sent to REMD
semd-status-registered = registered in REMD
semd-status-rejected = rejected by REMD
semd-missing-title = Data the SEMD needs are missing — signing is refused until they are entered:
concl-condition = Patient's condition
concl-condition-choose = — choose —
cms-target = What it signs
cms-target-pdf = The conclusion PDF
cms-target-semd = The SEMD (XML)
admin-snils = SNILS
admin-position-code = Position code (NSI 1.2.643.5.1.13.13.11.1002)
admin-org-address = Address
admin-org-phone = Phone
settings-semd = SEMD consultation protocol (REMD)
settings-semd-mis = MIS number in EGISZ and instance (N.N)
settings-semd-region-code = Region code (NSI 1.2.643.5.1.13.13.99.2.206)
settings-semd-region-name = Region name, as NSI writes it
settings-semd-required = Do not sign a conclusion while its SEMD cannot be built
f-patient-id_doc_type = Identity document
f-patient-id_doc_series = Document series
f-patient-id_doc_number = Document number
f-patient-id_doc_issuer = Issued by
f-patient-id_doc_issued = Date of issue
f-patient-oms_policy_type = OMS policy kind

# Sizes and spans, written per locale.
unit-bytes = B
unit-kb = KB
unit-mb = MB
unit-gb = GB
unit-tb = TB
decimal-separator = .
span-days = d
span-hours = h
span-minutes = min

# The federal outbox's known causes (see ru).
federal-cause-unreachable = the federal level is unreachable
federal-cause-answered = the federal level answered
federal-cause-refused = the federal level refused
federal-cause-gave-no = the federal level gave no
federal-cause-lost = the federal level lost
federal-cause-took-no-bytes = the federal level took no bytes
federal-cause-unreadable = the file cannot be read here
federal-cause-protocol = the federal protocol

# Names of downloaded files.
file-conclusion-pdf = Conclusion { $id }, version { $version }.pdf
file-conclusion-seal = Conclusion { $id }, version { $version }.seal.json
file-semd-xml = SEMD { $id }, version { $version }.xml
file-request-pdf = Request { $id }.pdf
file-federal-package = Request { $id } — package for the federal level.zip
# The time a report was printed, in Moscow time.
printed-at-msk = { $at } (Moscow time)

# Notifications by their kind: `notification-<kind>`.
notification-new_request = New request
notification-emergency = Emergency request
notification-approval_needed = Approval needed
notification-returned = Returned for revision
notification-rejected = Request rejected
notification-assigned = Assigned to you
notification-declined = Consultant declined
notification-scheduled = Video session scheduled
notification-question = Consultant's question
notification-answer = Doctor's answer
notification-conclusion_ready = Conclusion ready
notification-conclusion_corrected = Conclusion corrected
notification-attachment = New file in the request
notification-escalated = Escalated to the federal level
notification-video_invite = Video session invitation
notification-video_now = You are called to a video session now
notification-video_reminder = Video session starts soon
notification-video_cancelled = Video session cancelled
notification-deadline_near = Deadline near
notification-deadline_over = Deadline passed
notification-deadline_escalated = Overdue: escalated to the coordination centre's head
notification-duty_call = You are on duty: emergency request, please acknowledge
notification-duty_alarm = Nobody on duty answered an emergency request
notification-other = Request changed

# E-mails (plain text; the lines are joined by the service).
mail-subject = RTMS: { $what } · request No. { $id }
mail-event = { $what }: request No. { $id }.
mail-open = Open: { $url }
mail-signature = — RTMS, regional telemedicine system
mail-digest-subject = RTMS: digest for { $day } · notifications: { $count }
mail-digest-heading = Notifications of { $day } (Moscow time):
mail-digest-line = { $at } — { $what }: request No. { $id }

# The request's timeline: what happened, by the recorded action.
event-create = Draft created
event-submit = Submitted
event-approve = Approved by the head
event-send_back = Sent back by the head
event-take = Taken for review
event-return = Returned for revision
event-resubmit = Resubmitted
event-reject = Rejected
event-assign = Assigned
event-accept = Accepted by the consultant
event-decline = Declined by the consultant
event-schedule = Video session scheduled
event-start = Consultation started
event-ask = Question from the consultant
event-answer = Answer from the doctor
event-sign = Conclusion signed
event-correct = Correction of the conclusion opened
event-correct_sign = Correction signed
event-federal_delivered = Delivered to the federal level
event-federal_status = State at the federal level
event-acknowledge = Conclusion acknowledged
event-escalate = Escalated to the federal level
event-record_federal_conclusion = Federal conclusion recorded
event-cancel = Cancelled
event-duty_ack = Acknowledged by the consultant on duty
event-duty_pass = No answer from the consultant on duty: passed to the backup
event-duty_alarm = Nobody on duty answered: alarm to the coordination centre's dispatcher


# The printed documents (PDF/A; printed in Russian, see ru).
doc-moscow-time = { $at } (Moscow time)
doc-conclusion-title = Telemedicine consultation report
doc-corrected-version = Corrected version { $version }. Replaces version { $previous } of { $signed }
doc-vitals-bp = BP { $systolic }/{ $diastolic } mmHg
doc-vitals-hr = HR { $value } per min
doc-vitals-rr = RR { $value } per min
doc-anamnesis-morbi = History of the present illness
doc-anamnesis-vitae = Life history
doc-epidemiological-history = Epidemiological history
doc-objective-status = Objective status
doc-vitals = Vital signs
doc-lab-results = Laboratory results
doc-instrumental-results = Instrumental examinations
doc-current-treatment = Current treatment
doc-previous-consultations = Previous consultations
doc-attachment = { $name } — { $kb } KB — SHA-256 { $sha }…
doc-region-default = Regional telemedicine system

# Texts the server writes into shared records (see ru).
ics-calendar-name = RTMS: video sessions
ics-session = Video session
ics-session-for = Video session for request No. { $ids }
ics-participants = Participants: { $who }
federal-conclusion-heading = Conclusion of the federal level (request No. { $id }):
federal-conclusion-icd = ICD-10 diagnosis: { $code }
federal-conclusion-protocol = Protocol: { $url }
file-federal-protocol = Federal protocol No. { $id }.pdf
fhir-ktc-dispatch = Coordination centre dispatch
fhir-protocol = Telemedicine consultation report
fhir-version = version { $version }
fhir-recommendations = Recommendations
fhir-protocol-title = Consultation report No. { $id }, version { $version }
fhir-implementation = Regional telemedicine system
fhir-subscription-reason = RTMS: request changes

# Duty rosters: the board, a centre's roster, the call on a request
nav-duty = On duty
duty-title = Who is on duty now
duty-board-hint = An emergency request goes to the consultant on duty for its profile as soon as it is sent; without an acknowledgement it passes to the backup, then to the coordination centre's dispatcher.
duty-none = No duty shifts in the next two days.
duty-now = Now
duty-next = Next shift
duty-nobody = Nobody: an emergency goes to the dispatcher
duty-backups = Backup
duty-absent = absent
duty-notify-enable = Turn on browser notifications
duty-roster-title = Duty roster
duty-roster-hint = Shift times are in the centre's time zone:
duty-export = Download CSV
duty-holiday = holiday
duty-week-empty = No shifts this week.
duty-delete = Remove
duty-delete-confirm = Remove the shift?
duty-add-shift = Add a shift
duty-add = Add
duty-import = Load the roster from a file
duty-import-hint = CSV (UTF-8, separated by ";") or XLSX: date;profile;kind;start;end;primary;backups — as the download writes it. The file replaces its profiles' shifts from its first day to its last. One error and nothing is loaded.
duty-import-button = Load
duty-imported = Shifts loaded: { $count }
duty-nothing-changed = The roster is unchanged.
duty-absences = Leave and sick leave
duty-from = From
duty-to = To
duty-show-phone = Show work phones on the duty board
duty-calendar-source = Production calendar
duty-row = Row
duty-col-date = date
duty-col-profile = Profile
duty-col-kind = kind
duty-col-start = start
duty-col-end = end
duty-col-primary = primary
duty-col-backups = backup
duty-col-file = file
duty-col-to = to
duty-col-from = from
duty-col-user_id = person
duty-kind-day = day
duty-kind-night = night
duty-kind-full = 24 hours
duty-kind-weekend = weekend
duty-absence-leave = leave
duty-absence-sick = sick leave
duty-absence-other = absence
duty-call-you = You are on duty: acknowledge by { $due }
duty-call-ack = Got it, looking
duty-call-waiting = Waiting for an acknowledgement: { $who }, by { $due }
duty-call-dispatchers = the coordination centre's dispatchers
duty-call-acked = Acknowledged by the consultant on duty: { $who }, { $at }
settings-duty = Duty and emergency calls
settings-duty-ack = Time for the consultant on duty to acknowledge, min
settings-duty-webhook = Webhook address (an SMS or telephone gateway)
settings-duty-template = The webhook's message text
settings-duty-template-example = Emergency request No. {"{"}id{"}"}: {"{"}link{"}"}
settings-duty-secret = Webhook signing key (HMAC-SHA256)
settings-duty-secret-hint = Never shown; an empty field keeps the key. The signature is in the X-RTMS-Signature header.
report-duty = Emergency calls of the consultants on duty
report-duty-none = Nobody on duty was called in the period.
report-col-centre = Centre
report-col-profile = Profile
report-duty-called = Calls
report-duty-acknowledged = Acknowledged
report-duty-median = To acknowledgement, min (median)
report-duty-p90 = To acknowledgement, min (90th percentile)
report-duty-backup = Answered by a backup
report-duty-alarms = Alarm to the dispatchers
assign-on-duty = on duty
assign-suggested = suggested: the fewest open
duty-export-xlsx = Download XLSX
settings-duty-auto-urgent = Urgent requests go to the consultant on duty at once, as emergencies do
