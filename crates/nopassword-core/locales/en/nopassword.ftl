# nopassword-rs: every user-facing text, in English (the original project's strings, word for
# word). A translation has exactly these messages; docs/guide/i18n.md explains how to add one.
# In .html templates a message is HTML: its arguments are escaped, its own text is not.

## Messages of forms, pages and the JSON API. The id is the API's "code".

required = This field is required.
invalid_code = Unable to log in with provided login code.
code_sent = Login code has been sent.
logged_out = Successfully logged out.
mail_sent = We sent you a mail with a login link
logging_in = Logging in...
click_to_login = Click here to login
link_not_found = This login link is invalid, expired or has already been used.
unavailable = Login is temporarily unavailable. Please try again in a few minutes.
rate_limited = Too many attempts. Please wait a little and try again.
csrf_failed = This form has expired or did not come from this site. Please reload the page and try again.
other_browser = Open this link in the browser where you asked to log in.
confirm_login = Confirm login
log_in = Log in
log_out_title = Log out?
log_out = Log out
too_large = The request body is too large.
expected_json = Expected Content-Type: application/json.
expected_form = Expected a form (Content-Type: application/x-www-form-urlencoded).
expected_json_object = Expected a JSON object.
unauthenticated = Authentication credentials were not provided.
flow_not_approved = This login has not been approved yet.
login_approved = Login approved
not_approved = Login not approved
wrong_number = That is not the number shown on the device where you asked to log in.

## Titles of the error pages.

title-bad_request = Bad request
title-csrf_failed = Form expired
title-other_browser = Open this link where you asked to log in
title-too_large = Request too large
title-rate_limited = Too many attempts
title-unavailable = Temporarily unavailable
title-link_not_found = Login link not valid

## Page texts.

login-title = Log in
login-intro = Enter your username and we will send you a login link.
label-username = Username
label-code = Code
login-button = Send login link
login-have-code = I have a code
sent-title = Check your inbox
# $expires_in: how long a code works, such as "15 minutes".
sent-body = If an account exists for that username, a login link is on its way. It works once, for { $expires_in }.
sent-enter-code = Enter the code by hand
# $number: the flow's matching number, 10 to 99.
sent-number = Opening the link on another device? Pick this number there: <strong>{ $number }</strong>
sent-waiting = This page logs you in by itself once you approve the login on the other device.
sent-continue = Continue
sent-expired = This login request has expired. Ask for a new login link.
code-title = Enter your login code
invalid-ask-new = Ask for a new login link
# $username: the account; $requested_at: a UTC time such as "2026-12-02 03:45 UTC".
confirm-intro = This link logs you in as <strong>{ $username }</strong>. The login was requested on { $requested_at }.
confirm-not-you = If you did not ask to log in as { $username }, close this page.
confirm-here = Log in on this device
confirm-there = Log in on the device where you asked
# $device: browser and system, such as "Firefox, Linux".
confirm-device = The login was requested from { $device }.
confirm-pick = Pick the number that device shows:
confirm-pick-warning = If no device of yours shows a number, you did not ask: pick nothing and close this page.
confirm-no-approval = This link can no longer approve another device.
approved-body = Go back to the device where you asked: it logs in by itself in a moment. This device stays logged out.
wrong-number-body = To keep your account safe, this link can no longer approve another device. If it was you who asked, ask for a new login link there.
error-back = Back to login

## The login e-mail. $site is the host named in the link.

mail-subject = Login code
mail-title = Log in to { $site }
mail-hello = Hello { $username },
mail-use-link = Use this link to log in to { $site }:
mail-copy-address = If the link does not work, copy this address into your browser:
mail-or-type = Or type this login code:
mail-works-once = The link and the code work once, for { $expires_in }.
mail-ignore = If you did not ask to log in, you can ignore this e-mail.

## The SMS.

sms-code = { $code } is your login code.
sms-login = Log in: { $url }
sms-expires = It expires in { $expires_in }.

## Durations: "1 hour 30 minutes" joins these with spaces.

duration-days = { $n ->
    [one] { $n } day
   *[other] { $n } days
}
duration-hours = { $n ->
    [one] { $n } hour
   *[other] { $n } hours
}
duration-minutes = { $n ->
    [one] { $n } minute
   *[other] { $n } minutes
}
duration-seconds = { $n ->
    [one] { $n } second
   *[other] { $n } seconds
}
