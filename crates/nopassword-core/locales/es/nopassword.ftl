# nopassword-rs en español (tuteo). Los mismos mensajes que en/nopassword.ftl.
# En las plantillas .html un mensaje es HTML: sus argumentos se escapan, su texto no.

## Mensajes de formularios, páginas y la API JSON. El id es el "code" de la API.

required = Este campo es obligatorio.
invalid_code = No se ha podido iniciar sesión con el código de acceso proporcionado.
code_sent = Se ha enviado el código de acceso.
logged_out = Has cerrado la sesión correctamente.
mail_sent = Te hemos enviado un correo con un enlace de acceso
logging_in = Iniciando sesión...
click_to_login = Haz clic aquí para iniciar sesión
link_not_found = Este enlace de acceso no es válido, ha caducado o ya se ha usado.
unavailable = El inicio de sesión no está disponible en este momento. Inténtalo de nuevo dentro de unos minutos.
rate_limited = Demasiados intentos. Espera un poco y vuelve a intentarlo.
csrf_failed = Este formulario ha caducado o no procede de este sitio. Recarga la página y vuelve a intentarlo.
other_browser = Abre este enlace en el navegador en el que pediste iniciar sesión.
confirm_login = Confirmar inicio de sesión
log_in = Iniciar sesión
log_out_title = ¿Cerrar sesión?
log_out = Cerrar sesión
too_large = El cuerpo de la solicitud es demasiado grande.
expected_json = Se esperaba Content-Type: application/json.
expected_form = Se esperaba un formulario (Content-Type: application/x-www-form-urlencoded).
expected_json_object = Se esperaba un objeto JSON.
unauthenticated = No se han proporcionado credenciales de autenticación.
flow_not_approved = Este inicio de sesión aún no se ha aprobado.
login_approved = Inicio de sesión aprobado
not_approved = Inicio de sesión no aprobado
wrong_number = Ese no es el número que muestra el dispositivo donde pediste iniciar sesión.

## Títulos de las páginas de error.

title-bad_request = Solicitud incorrecta
title-csrf_failed = Formulario caducado
title-other_browser = Abre este enlace donde pediste iniciar sesión
title-too_large = Solicitud demasiado grande
title-rate_limited = Demasiados intentos
title-unavailable = No disponible temporalmente
title-link_not_found = Enlace de acceso no válido

## Textos de las páginas.

login-title = Iniciar sesión
login-intro = Escribe tu nombre de usuario y te enviaremos un enlace de acceso.
label-username = Nombre de usuario
label-code = Código
login-button = Enviar enlace de acceso
login-have-code = Tengo un código
sent-title = Revisa tu bandeja de entrada
sent-body = Si existe una cuenta con ese nombre de usuario, el enlace de acceso ya está en camino. Funciona una sola vez, durante { $expires_in }.
sent-enter-code = Escribir el código a mano
sent-number = ¿Abres el enlace en otro dispositivo? Elige allí este número: <strong>{ $number }</strong>
sent-waiting = Esta página inicia tu sesión sola en cuanto apruebes el inicio de sesión en el otro dispositivo.
sent-continue = Continuar
sent-expired = Esta solicitud de inicio de sesión ha caducado. Pide un nuevo enlace de acceso.
code-title = Escribe tu código de acceso
invalid-ask-new = Pedir un nuevo enlace de acceso
confirm-intro = Este enlace inicia sesión como <strong>{ $username }</strong>. El inicio de sesión se solicitó el { $requested_at }.
confirm-not-you = Si no pediste iniciar sesión como { $username }, cierra esta página.
confirm-here = Iniciar sesión en este dispositivo
confirm-there = Iniciar sesión en el dispositivo donde lo pediste
confirm-device = El inicio de sesión se pidió desde { $device }.
confirm-pick = Elige el número que muestra ese dispositivo:
confirm-pick-warning = Si ningún dispositivo tuyo muestra un número, no lo pediste tú: no elijas nada y cierra esta página.
confirm-no-approval = Este enlace ya no puede aprobar otro dispositivo.
approved-body = Vuelve al dispositivo donde lo pediste: iniciará sesión solo en un momento. Este dispositivo sigue sin sesión.
wrong-number-body = Para proteger tu cuenta, este enlace ya no puede aprobar otro dispositivo. Si fuiste tú quien lo pidió, pide allí un nuevo enlace de acceso.
error-back = Volver al inicio de sesión

## El correo de acceso. $site es el host del enlace.

mail-subject = Código de acceso
mail-title = Iniciar sesión en { $site }
mail-hello = Hola, { $username }:
mail-use-link = Usa este enlace para iniciar sesión en { $site }:
mail-copy-address = Si el enlace no funciona, copia esta dirección en tu navegador:
mail-or-type = O escribe este código de acceso:
mail-works-once = El enlace y el código funcionan una sola vez, durante { $expires_in }.
mail-ignore = Si no pediste iniciar sesión, puedes ignorar este correo.

## El SMS.

sms-code = { $code } es tu código de acceso.
sms-login = Inicia sesión: { $url }
sms-expires = Caduca en { $expires_in }.

## Duraciones: "1 hora 30 minutos" las une con espacios.

duration-days = { $n ->
    [one] { $n } día
   *[other] { $n } días
}
duration-hours = { $n ->
    [one] { $n } hora
   *[other] { $n } horas
}
duration-minutes = { $n ->
    [one] { $n } minuto
   *[other] { $n } minutos
}
duration-seconds = { $n ->
    [one] { $n } segundo
   *[other] { $n } segundos
}
