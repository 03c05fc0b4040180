app-name = RTMS
app-subtitle = Regional telemedicine system
lang-switch = Русский
loading = Loading…
save = Save
yes = Yes
no = No
years = y.o.
minutes = min
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

login-locked = Too many failed attempts. Sign-in is locked until { $until } (Moscow time).
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
