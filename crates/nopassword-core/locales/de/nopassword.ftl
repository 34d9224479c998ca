# nopassword-rs auf Deutsch (Sie-Form). Dieselben Nachrichten wie en/nopassword.ftl.
# In .html-Vorlagen ist eine Nachricht HTML: ihre Argumente werden maskiert, ihr Text nicht.

## Nachrichten der Formulare, Seiten und der JSON-API. Die ID ist der "code" der API.

required = Dieses Feld ist erforderlich.
invalid_code = Mit dem angegebenen Anmeldecode ist keine Anmeldung möglich.
code_sent = Der Anmeldecode wurde gesendet.
logged_out = Sie wurden erfolgreich abgemeldet.
mail_sent = Wir haben Ihnen eine E-Mail mit einem Anmeldelink geschickt
logging_in = Anmeldung läuft...
click_to_login = Hier klicken, um sich anzumelden
link_not_found = Dieser Anmeldelink ist ungültig, abgelaufen oder wurde bereits verwendet.
unavailable = Die Anmeldung ist vorübergehend nicht möglich. Bitte versuchen Sie es in einigen Minuten erneut.
rate_limited = Zu viele Versuche. Bitte warten Sie einen Moment und versuchen Sie es dann erneut.
csrf_failed = Dieses Formular ist abgelaufen oder stammt nicht von dieser Website. Bitte laden Sie die Seite neu und versuchen Sie es erneut.
other_browser = Öffnen Sie diesen Link in dem Browser, in dem Sie die Anmeldung angefordert haben.
confirm_login = Anmeldung bestätigen
log_in = Anmelden
log_out_title = Abmelden?
log_out = Abmelden
too_large = Der Inhalt der Anfrage ist zu groß.
expected_json = Erwartet wurde Content-Type: application/json.
expected_form = Erwartet wurde ein Formular (Content-Type: application/x-www-form-urlencoded).
expected_json_object = Erwartet wurde ein JSON-Objekt.
unauthenticated = Es wurden keine Anmeldedaten übermittelt.
flow_not_approved = Diese Anmeldung wurde noch nicht bestätigt.
login_approved = Anmeldung bestätigt
not_approved = Anmeldung nicht bestätigt
wrong_number = Das ist nicht die Zahl, die das Gerät zeigt, auf dem du die Anmeldung angefordert hast.

## Titel der Fehlerseiten.

title-bad_request = Ungültige Anfrage
title-csrf_failed = Formular abgelaufen
title-other_browser = Öffnen Sie diesen Link dort, wo Sie die Anmeldung angefordert haben
title-too_large = Anfrage zu groß
title-rate_limited = Zu viele Versuche
title-unavailable = Vorübergehend nicht verfügbar
title-link_not_found = Anmeldelink ungültig

## Texte der Seiten.

login-title = Anmelden
login-intro = Geben Sie Ihren Benutzernamen ein, dann senden wir Ihnen einen Anmeldelink.
label-username = Benutzername
label-code = Code
login-button = Anmeldelink senden
login-have-code = Ich habe einen Code
sent-title = Sehen Sie in Ihrem Posteingang nach
sent-body = Falls es zu diesem Benutzernamen ein Konto gibt, ist ein Anmeldelink unterwegs. Er funktioniert ein einziges Mal und ist { $expires_in } gültig.
sent-enter-code = Code von Hand eingeben
sent-number = Öffnest du den Link auf einem anderen Gerät? Wähle dort diese Zahl: <strong>{ $number }</strong>
sent-waiting = Diese Seite meldet dich von selbst an, sobald du die Anmeldung auf dem anderen Gerät bestätigst.
sent-continue = Weiter
sent-expired = Diese Anmeldeanfrage ist abgelaufen. Fordere einen neuen Anmeldelink an.
code-title = Anmeldecode eingeben
invalid-ask-new = Neuen Anmeldelink anfordern
confirm-intro = Mit diesem Link melden Sie sich als <strong>{ $username }</strong> an. Die Anmeldung wurde am { $requested_at } angefordert.
confirm-not-you = Falls Sie die Anmeldung als { $username } nicht angefordert haben, schließen Sie diese Seite.
confirm-here = Auf diesem Gerät anmelden
confirm-there = Auf dem Gerät anmelden, auf dem du angefragt hast
confirm-device = Die Anmeldung wurde von { $device } angefordert.
confirm-pick = Wähle die Zahl, die dieses Gerät zeigt:
confirm-pick-warning = Wenn keines deiner Geräte eine Zahl zeigt, hast du nicht angefragt: wähle nichts und schließe diese Seite.
confirm-no-approval = Dieser Link kann kein anderes Gerät mehr bestätigen.
approved-body = Geh zurück zu dem Gerät, auf dem du angefragt hast: Es meldet sich gleich von selbst an. Dieses Gerät bleibt abgemeldet.
wrong-number-body = Zum Schutz deines Kontos kann dieser Link kein anderes Gerät mehr bestätigen. Wenn du angefragt hast, fordere dort einen neuen Anmeldelink an.
error-back = Zurück zur Anmeldung

## Die Anmelde-E-Mail. $site ist der Host im Link.

mail-subject = Anmeldecode
mail-title = Bei { $site } anmelden
mail-hello = Hallo { $username },
mail-use-link = Mit diesem Link melden Sie sich bei { $site } an:
mail-copy-address = Falls der Link nicht funktioniert, kopieren Sie diese Adresse in Ihren Browser:
mail-or-type = Oder geben Sie diesen Anmeldecode ein:
mail-works-once = Link und Code funktionieren ein einziges Mal und sind { $expires_in } gültig.
mail-ignore = Falls Sie keine Anmeldung angefordert haben, können Sie diese E-Mail ignorieren.

## Die SMS.

sms-code = { $code } ist Ihr Anmeldecode.
sms-login = Anmelden: { $url }
sms-expires = Er ist { $expires_in } gültig.

## Zeitspannen: "1 Stunde 30 Minuten" verbindet sie mit Leerzeichen (im Akkusativ: "15 Minuten gültig").

duration-days = { $n ->
    [one] { $n } Tag
   *[other] { $n } Tage
}
duration-hours = { $n ->
    [one] { $n } Stunde
   *[other] { $n } Stunden
}
duration-minutes = { $n ->
    [one] { $n } Minute
   *[other] { $n } Minuten
}
duration-seconds = { $n ->
    [one] { $n } Sekunde
   *[other] { $n } Sekunden
}
