//! Languages (docs/HTTP.md, Languages): every page and API answer in the request's language,
//! here Spanish, with `<html lang dir>`, `Content-Language` and `Vary: Accept-Language`; the
//! negotiation's order (the app's choice, `Accept-Language` with q-values, `default_locale`);
//! English, the original's strings, without a header; and the mail in the page's language.

use reqwest::StatusCode;
use serde_json::json;

use super::text;
use crate::support::{APP_LOCALE_HEADER, Adapter, Reply, Site, html};

/// The Spanish texts this suite expects (crates/nopassword-core/locales/es/nopassword.ftl).
mod es {
    pub(super) const LOG_IN_TITLE: &str = "Iniciar sesión";
    pub(super) const USERNAME: &str = "Nombre de usuario";
    pub(super) const SEND_LINK: &str = "Enviar enlace de acceso";
    pub(super) const SENT: &str = "Te hemos enviado un correo con un enlace de acceso";
    pub(super) const SENT_FOR: &str = "Funciona una sola vez, durante 15 minutos.";
    pub(super) const REQUIRED: &str = "Este campo es obligatorio.";
    pub(super) const INVALID_CODE: &str =
        "No se ha podido iniciar sesión con el código de acceso proporcionado.";
    pub(super) const LOGGING_IN: &str = "Iniciando sesión...";
    pub(super) const CLICK_TO_LOGIN: &str = "Haz clic aquí para iniciar sesión";
    pub(super) const CONFIRM_LOGIN: &str = "Confirmar inicio de sesión";
    pub(super) const CONFIRM_INTRO: &str = "Este enlace inicia sesión como <strong>alice</strong>.";
    pub(super) const CODE_TITLE: &str = "Escribe tu código de acceso";
    pub(super) const LINK_NOT_VALID: &str = "Enlace de acceso no válido";
    pub(super) const LINK_NOT_FOUND: &str =
        "Este enlace de acceso no es válido, ha caducado o ya se ha usado.";
    pub(super) const FORM_EXPIRED: &str = "Formulario caducado";
    pub(super) const LOG_OUT_TITLE: &str = "¿Cerrar sesión?";
    pub(super) const LOG_OUT: &str = "Cerrar sesión";
    pub(super) const CODE_SENT: &str = "Se ha enviado el código de acceso.";
    pub(super) const LOGGED_OUT: &str = "Has cerrado la sesión correctamente.";
    pub(super) const EXPECTED_JSON: &str = "Se esperaba Content-Type: application/json.";
}

/// A page or JSON answer in `lang`, labelled so, and varying by `Accept-Language`.
#[track_caller]
fn assert_in(reply: &Reply, lang: &str) {
    assert_eq!(
        reply.header("content-language"),
        Some(lang),
        "{}",
        reply.body
    );
    let vary: Vec<String> = reply
        .headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .collect();
    assert!(
        vary.iter().any(|v| v == "accept-language"),
        "Vary: {vary:?}"
    );
    if reply
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))
    {
        let tag = format!(r#"<html lang="{lang}" dir="ltr">"#);
        assert!(reply.body.contains(&tag), "{tag} in {}", reply.body);
    }
}

#[track_caller]
fn assert_contains(reply: &Reply, texts: &[&str]) {
    for text in texts {
        assert!(reply.body.contains(text), "{text:?} in {}", reply.body);
    }
}

/// Every page of the HTML routes in Spanish for a browser that asks for it: the login form,
/// the sent page, the form's error, the link's "Logging in..." page and another browser's
/// "Confirm login", the typed-code form and its error, the 404 and 403 pages, the logout
/// form; and the mail goes out in Spanish too.
pub async fn pages_speak_the_browsers_language<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser_in("es-ES,es;q=0.9,en;q=0.5");

    let form = browser.get(&site.path("login/")).await;
    form.expect(StatusCode::OK);
    assert_in(&form, "es");
    assert_contains(
        &form,
        &[
            &format!("<h1>{}</h1>", es::LOG_IN_TITLE),
            es::USERNAME,
            es::SEND_LINK,
        ],
    );
    assert_eq!(html::title(&form.body).as_deref(), Some(es::LOG_IN_TITLE));

    let token = form.csrf();
    let empty = browser
        .post_form(
            &site.path("login/"),
            &[("csrfmiddlewaretoken", &token), ("username", "")],
        )
        .await;
    empty.expect(StatusCode::OK);
    assert_in(&empty, "es");
    assert_contains(&empty, &[es::REQUIRED]);

    let before = site.sent();
    let sent = browser
        .post_form(
            &site.path("login/"),
            &[("csrfmiddlewaretoken", &token), ("username", "alice")],
        )
        .await;
    sent.expect(StatusCode::OK);
    assert_in(&sent, "es");
    assert_contains(&sent, &[es::SENT, es::SENT_FOR]);
    let message = site.new_message_for("alice", before).await;
    assert_eq!(
        site.locales.all().last(),
        Some(&("alice".to_owned(), Some("es".to_owned()))),
        "the mail is written in the language of the page that asked for it"
    );

    let link = browser.get(&message.url).await;
    link.expect(StatusCode::OK);
    assert_in(&link, "es");
    assert_contains(&link, &[es::LOGGING_IN, es::CLICK_TO_LOGIN]);

    let other = site.browser_in("es");
    let confirm = other.get(&message.url).await;
    confirm.expect(StatusCode::OK);
    assert_in(&confirm, "es");
    assert_contains(&confirm, &[es::CONFIRM_LOGIN, es::CONFIRM_INTRO]);

    let code_form = browser.get(&site.path("login/code/")).await;
    code_form.expect(StatusCode::OK);
    assert_in(&code_form, "es");
    assert_contains(&code_form, &[es::CODE_TITLE, es::USERNAME]);
    let wrong = browser
        .post_form(
            &site.path("login/code/"),
            &[
                ("csrfmiddlewaretoken", &code_form.csrf()),
                ("username", "alice"),
                ("code", "ffffffffffffffffffff"),
            ],
        )
        .await;
    wrong.expect(StatusCode::OK);
    assert_in(&wrong, "es");
    assert_contains(&wrong, &[es::INVALID_CODE]);

    let missing = browser
        .get(&site.path("login-code/alice/0000000000000000000a/"))
        .await;
    missing.expect(StatusCode::NOT_FOUND);
    assert_in(&missing, "es");
    assert_contains(&missing, &[es::LINK_NOT_VALID, es::LINK_NOT_FOUND]);

    let forged = browser
        .post_form(
            &site.path("login/"),
            &[("csrfmiddlewaretoken", "forged"), ("username", "alice")],
        )
        .await;
    forged.expect(StatusCode::FORBIDDEN);
    assert_in(&forged, "es");
    assert_contains(&forged, &[es::FORM_EXPIRED]);

    let logout = browser.get(&site.path("logout/")).await;
    logout.expect(StatusCode::OK);
    assert_in(&logout, "es");
    assert_contains(&logout, &[es::LOG_OUT_TITLE, &format!(">{}<", es::LOG_OUT)]);
}

/// The JSON API in Spanish: each message translated, its `code` (and the field errors'
/// `codes`) the same as in English.
pub async fn api_speaks_the_clients_language<A: Adapter>() {
    let site = Site::standard::<A>();
    let client = site.browser_in("es");

    let reply = client
        .post_json(&site.url("api/login/"), &json!({ "username": "alice" }))
        .await;
    reply.expect(StatusCode::OK);
    assert_in(&reply, "es");
    let body = reply.json();
    assert_eq!(body["detail"], es::CODE_SENT);
    assert_eq!(body["code"], "code_sent");
    let flow = body["flow"].as_str().expect("a flow").to_owned();
    site.new_message_for("alice", 0).await;
    assert_eq!(
        site.locales
            .all()
            .last()
            .and_then(|(_, l)| l.clone())
            .as_deref(),
        Some("es")
    );

    let reply = client.post_json(&site.url("api/login/"), &json!({})).await;
    reply.expect(StatusCode::BAD_REQUEST);
    assert_in(&reply, "es");
    assert_eq!(
        reply.json(),
        json!({ "username": [es::REQUIRED], "codes": { "username": ["required"] } })
    );

    let reply = client
        .post_json(
            &site.url("api/login/code/"),
            &json!({ "username": "alice", "code": "ffffffffffffffffffff", "flow": flow }),
        )
        .await;
    reply.expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({ "__all__": [es::INVALID_CODE], "codes": { "__all__": ["invalid_code"] } })
    );

    let reply = client
        .post_raw(&site.url("api/login/"), "text/plain", "{}")
        .await;
    reply.expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_in(&reply, "es");
    assert_eq!(
        reply.json(),
        json!({ "detail": es::EXPECTED_JSON, "code": "expected_json" })
    );

    let reply = client.post_json(&site.url("api/logout/"), &json!({})).await;
    reply.expect(StatusCode::OK);
    assert_in(&reply, "es");
    assert_eq!(
        reply.json(),
        json!({ "detail": es::LOGGED_OUT, "code": "logged_out" })
    );
}

/// Without `Accept-Language`, or asking for English, every text is the original's and the
/// page says `lang="en"`.
pub async fn english_without_a_header_or_for_english<A: Adapter>() {
    let site = Site::standard::<A>();
    for browser in [site.browser(), site.browser_in("en-US,en;q=0.8")] {
        let form = browser.get(&site.path("login/")).await;
        form.expect(StatusCode::OK);
        assert_eq!(form.header("content-language"), Some("en"));
        assert!(
            form.body.contains(r#"<html lang="en" dir="ltr">"#),
            "{}",
            form.body
        );
        assert!(form.body.contains("<h1>Log in</h1>"), "{}", form.body);
        let reply = browser.post_json(&site.url("api/login/"), &json!({})).await;
        assert_eq!(
            reply.json(),
            json!({ "username": [text::REQUIRED], "codes": { "username": ["required"] } })
        );
    }
}

/// `Accept-Language` is weighed by its q-values and matched by language; a language the
/// catalog lacks gives `default_locale`, which is `en` unless set.
pub async fn negotiation_weighs_q_values_and_falls_back_to_the_default<A: Adapter>() {
    let site = Site::standard::<A>();
    for (header, lang) in [
        ("fr;q=0.5, es;q=0.9", "es"),
        ("de-CH", "de"),
        ("ja, zh;q=0.8", "en"),
        ("es;q=0, fr", "fr"),
        ("*", "en"),
        ("a;;q=x,,", "en"),
    ] {
        let reply = site.browser_in(header).get(&site.path("login/")).await;
        reply.expect(StatusCode::OK);
        assert_eq!(reply.header("content-language"), Some(lang), "{header}");
    }
    let site = Site::start::<A>(|s| s.default_locale = "de".parse().expect("a tag"));
    let reply = site.browser().get(&site.path("login/")).await;
    assert_in(&reply, "de");
    assert!(reply.body.contains("<h1>Anmelden</h1>"), "{}", reply.body);
    let reply = site.browser_in("ja").get(&site.path("login/")).await;
    assert_eq!(reply.header("content-language"), Some("de"));
}

/// The app's choice (a `Locale` in the request's extensions) wins over `Accept-Language`, and
/// the answer then does not vary by that header.
pub async fn the_apps_choice_wins<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser_in("es");
    let request = browser
        .request(reqwest::Method::GET, &site.path("login/"))
        .header(APP_LOCALE_HEADER, "fr");
    let reply = browser.send(request).await;
    reply.expect(StatusCode::OK);
    assert_eq!(reply.header("content-language"), Some("fr"));
    assert!(
        reply.body.contains(r#"<html lang="fr" dir="ltr">"#),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("<h1>Connexion</h1>"), "{}", reply.body);
    let vary = reply
        .header("vary")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(!vary.contains("accept-language"), "Vary: {vary}");
}
