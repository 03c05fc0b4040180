# Errors of the API (problem+json `title` and `detail`, by Accept-Language)
# and the pages that show the same refusals.

problem-unauthenticated = Sign-in required
problem-bad-credentials = Wrong login or password
problem-session-expired = The session expired; sign in again
problem-throttled = Too many sign-in attempts
problem-throttled-detail = Try again in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
problem-not-found = Not found
problem-forbidden = You may not do this
problem-wrong-state = This action is not possible in the request's current state
problem-wrong-state-detail = Status: “{ $status }” — { $action }
problem-concurrent-change = Someone else just changed this request; reload it
problem-validation = Please check the fields
problem-internal = Internal server error
problem-bad-request = The request could not be read
problem-quota-organization = The organization's upload quota is exceeded: { $limit } MB, { $used } MB already used, the file is { $requested } MB. Ask an administrator
problem-quota-user = Your upload quota is exceeded: { $limit } MB, { $used } MB already used, the file is { $requested } MB. Ask an administrator
problem-files-missing = The request is not submitted: { $count ->
        [one] { $count } file not received yet
       *[other] { $count } files not received yet
    }: { $names }. Send them (tus, /api/v1/uploads) and repeat
problem-body-too-large = The request body is over { $mib } MiB
problem-fhir-body-too-large = The FHIR body is over { $mib } MiB. A Bundle carries no files: send them by tus (/api/v1/uploads) and give their size and SHA-256 in the DocumentReference
problem-invalid-json = Invalid JSON: { $detail }
problem-invalid-path = Invalid address: { $detail }
problem-invalid-query = Invalid query parameters: { $detail }
problem-nul = The text contains a NUL character (code 0), which is not allowed
problem-invalid-text = The file must be UTF-8 text: { $detail }
fhir-search-unsupported = Unsupported search parameter: { $param }
fhir-body-not-json = The body is not JSON
fhir-search-by-request = Search by { $param }=ServiceRequest/<id>
