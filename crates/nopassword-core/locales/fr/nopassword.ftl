# nopassword-rs en français (vouvoiement). Les mêmes messages que en/nopassword.ftl.
# Dans les gabarits .html, un message est du HTML : ses arguments sont échappés, son texte non.
# Espace insécable (U+00A0) avant « : » et « ? ».

## Messages des formulaires, des pages et de l'API JSON. L'identifiant est le « code » de l'API.

required = Ce champ est obligatoire.
invalid_code = Impossible de se connecter avec le code de connexion fourni.
code_sent = Le code de connexion a été envoyé.
logged_out = Vous avez bien été déconnecté.
mail_sent = Nous vous avons envoyé un e-mail avec un lien de connexion
logging_in = Connexion en cours...
click_to_login = Cliquez ici pour vous connecter
link_not_found = Ce lien de connexion n'est pas valide, a expiré ou a déjà été utilisé.
unavailable = La connexion est momentanément indisponible. Veuillez réessayer dans quelques minutes.
rate_limited = Trop de tentatives. Veuillez patienter un peu, puis réessayer.
csrf_failed = Ce formulaire a expiré ou ne provient pas de ce site. Veuillez recharger la page et réessayer.
other_browser = Ouvrez ce lien dans le navigateur depuis lequel vous avez demandé à vous connecter.
confirm_login = Confirmer la connexion
log_in = Se connecter
log_out_title = Se déconnecter ?
log_out = Se déconnecter
too_large = Le corps de la requête est trop volumineux.
expected_json = Content-Type attendu : application/json.
expected_form = Formulaire attendu (Content-Type : application/x-www-form-urlencoded).
expected_json_object = Objet JSON attendu.
unauthenticated = Les informations d'authentification n'ont pas été fournies.
flow_not_approved = Cette connexion n’a pas encore été approuvée.
login_approved = Connexion approuvée
not_approved = Connexion non approuvée
wrong_number = Ce n’est pas le nombre affiché sur l’appareil où vous avez demandé à vous connecter.

## Titres des pages d'erreur.

title-bad_request = Requête incorrecte
title-csrf_failed = Formulaire expiré
title-other_browser = Ouvrez ce lien là où vous avez demandé à vous connecter
title-too_large = Requête trop volumineuse
title-rate_limited = Trop de tentatives
title-unavailable = Momentanément indisponible
title-link_not_found = Lien de connexion non valide

## Textes des pages.

login-title = Connexion
login-intro = Saisissez votre nom d'utilisateur et nous vous enverrons un lien de connexion.
label-username = Nom d'utilisateur
label-code = Code
login-button = Envoyer le lien de connexion
login-have-code = J'ai un code
sent-title = Consultez votre boîte de réception
sent-body = Si un compte existe pour ce nom d'utilisateur, un lien de connexion est en route. Il ne fonctionne qu'une fois, pendant { $expires_in }.
sent-enter-code = Saisir le code à la main
sent-number = Vous ouvrez le lien sur un autre appareil ? Choisissez-y ce nombre : <strong>{ $number }</strong>
sent-waiting = Cette page vous connecte d’elle-même dès que vous approuvez la connexion sur l’autre appareil.
sent-continue = Continuer
sent-expired = Cette demande de connexion a expiré. Demandez un nouveau lien de connexion.
code-title = Saisissez votre code de connexion
invalid-ask-new = Demander un nouveau lien de connexion
confirm-intro = Ce lien vous connecte en tant que <strong>{ $username }</strong>. La connexion a été demandée le { $requested_at }.
confirm-not-you = Si vous n'avez pas demandé à vous connecter en tant que { $username }, fermez cette page.
confirm-here = Me connecter sur cet appareil
confirm-there = Me connecter sur l’appareil où j’ai fait la demande
confirm-device = La connexion a été demandée depuis { $device }.
confirm-pick = Choisissez le nombre affiché sur cet appareil :
confirm-pick-warning = Si aucun de vos appareils n’affiche de nombre, vous n’avez rien demandé : ne choisissez rien et fermez cette page.
confirm-no-approval = Ce lien ne peut plus approuver un autre appareil.
approved-body = Revenez à l’appareil où vous avez fait la demande : il se connecte de lui-même dans un instant. Cet appareil reste déconnecté.
wrong-number-body = Pour protéger votre compte, ce lien ne peut plus approuver un autre appareil. Si c’est vous qui avez fait la demande, demandez-y un nouveau lien de connexion.
error-back = Retour à la connexion

## L'e-mail de connexion. $site est l'hôte du lien.

mail-subject = Code de connexion
mail-title = Se connecter à { $site }
mail-hello = Bonjour { $username },
mail-use-link = Utilisez ce lien pour vous connecter à { $site } :
mail-copy-address = Si le lien ne fonctionne pas, copiez cette adresse dans votre navigateur :
mail-or-type = Ou saisissez ce code de connexion :
mail-works-once = Le lien et le code ne fonctionnent qu'une fois, pendant { $expires_in }.
mail-ignore = Si vous n'avez pas demandé à vous connecter, vous pouvez ignorer cet e-mail.

## Le SMS.

sms-code = { $code } est votre code de connexion.
sms-login = Connexion : { $url }
sms-expires = Il expire dans { $expires_in }.

## Durées : « 1 heure 30 minutes » les joint par des espaces. En français, 0 et 1 sont au singulier.

duration-days = { $n ->
    [one] { $n } jour
   *[other] { $n } jours
}
duration-hours = { $n ->
    [one] { $n } heure
   *[other] { $n } heures
}
duration-minutes = { $n ->
    [one] { $n } minute
   *[other] { $n } minutes
}
duration-seconds = { $n ->
    [one] { $n } seconde
   *[other] { $n } secondes
}
