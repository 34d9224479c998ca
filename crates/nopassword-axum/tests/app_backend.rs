//! Our routes inside an app that has its own axum-login backend: a composite backend whose
//! credentials are the app's passwords or our login codes. Users log in either way, and both
//! reach the page behind the "login required" guard.

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use axum::{
    Form, Json, Router,
    http::{Method, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_login::{AuthSession, AuthUser, AuthnBackend, UserId};
use nopassword_axum::{
    Credentials, LoginLayerBuilder, MemorySessionStore, NoPasswordBackend, PasswordlessBackend,
    login_required_with, router_with,
};
use nopassword_conformance::support::{Adapter, ServerHandle, Site};
use nopassword_core::{Error, LoginUser, NoPassword, user::User};

use serde::Deserialize;
use serde_json::{Value, json};

/// The app's user, as its sessions keep it: whichever way they logged in.
#[derive(Debug, Clone)]
struct Member {
    id: String,
    username: String,
    auth_hash: Vec<u8>,
}

impl AuthUser for Member {
    type Id = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }
}

/// The app's credentials: its own password form, or one of our login codes.
enum AppCredentials {
    Password { username: String, password: String },
    Code(Credentials),
}

/// The app's backend: passwords for some users, and login codes through ours.
#[derive(Clone)]
struct AppBackend {
    passwords: Arc<HashMap<&'static str, &'static str>>,
    codes: NoPasswordBackend<User>,
}

impl AppBackend {
    fn member(user: &User) -> Member {
        Member {
            id: user.id(),
            username: user.username.clone(),
            // A real app hashes something that changes with the password.
            auth_hash: format!("member:{}", user.id()).into_bytes(),
        }
    }
}

impl AuthnBackend for AppBackend {
    type User = Member;
    type Credentials = AppCredentials;
    type Error = Error;

    async fn authenticate(&self, creds: AppCredentials) -> Result<Option<Member>, Error> {
        match creds {
            AppCredentials::Password { username, password } => {
                if self.passwords.get(username.as_str()) != Some(&password.as_str()) {
                    return Ok(None);
                }
                let user = self.codes.service().users().find_by_username(&username);
                let user = user.await.map_err(Error::Directory)?;
                Ok(user.filter(User::is_active).as_ref().map(Self::member))
            }
            AppCredentials::Code(creds) => {
                let user = self.codes.authenticate(creds).await?;
                Ok(user.map(|session| Self::member(&session.user)))
            }
        }
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<Member>, Error> {
        let user = self.codes.service().users().find_by_id(id).await;
        let user = user.map_err(Error::Directory)?;
        Ok(user.filter(User::is_active).as_ref().map(Self::member))
    }
}

impl PasswordlessBackend for AppBackend {
    type LoginUser = User;

    async fn user_from_login(&self, user: User) -> Result<Member, Error> {
        Ok(Self::member(&user))
    }
}

type Auth = AuthSession<AppBackend>;

#[derive(Deserialize)]
struct PasswordForm {
    username: String,
    password: String,
}

/// The app's own password login.
async fn password_login(mut auth: Auth, Form(form): Form<PasswordForm>) -> Response {
    let creds = AppCredentials::Password {
        username: form.username,
        password: form.password,
    };
    match auth.authenticate(creds).await {
        Ok(Some(member)) => match auth.login(&member).await {
            Ok(()) => Redirect::to("/members/").into_response(),
            Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        },
        Ok(None) => (StatusCode::UNAUTHORIZED, "Wrong username or password").into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[derive(Deserialize)]
struct CodeBody {
    username: String,
    code: String,
    flow: String,
}

/// The app's own code login, through the composite's `Code` credentials.
async fn code_login(mut auth: Auth, Json(body): Json<CodeBody>) -> Response {
    let creds = AppCredentials::Code(Credentials {
        username: Some(body.username),
        code: body.code,
        client: None,
        flow: Some(body.flow),
    });
    match auth.authenticate(creds).await {
        Ok(Some(member)) => match auth.login(&member).await {
            Ok(()) => Json(json!({ "username": member.username })).into_response(),
            Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        },
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn whoami(auth: Auth) -> Response {
    match auth.user {
        Some(member) => Json(json!({ "username": member.username })).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn members(auth: Auth) -> String {
    let name = auth.user.map(|m| m.username).unwrap_or_default();
    format!("Members only: {name}")
}

/// The app: its password form, its members page behind the guard, our routes beside them.
struct AppWithPasswords;

impl Adapter for AppWithPasswords {
    fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle {
        let backend = AppBackend {
            passwords: Arc::new(HashMap::from([("alice", "correct horse")])),
            codes: NoPasswordBackend::new(service.clone()),
        };
        let sessions = MemorySessionStore::default();
        let protected = Router::new()
            .route("/members/", get(members))
            .route_layer(login_required_with::<AppBackend>(&service));
        let app = Router::new()
            .route("/whoami", get(whoami))
            .route("/password-login", post(password_login))
            .route("/code-login", post(code_login))
            .merge(protected)
            .merge(router_with::<AppBackend>(service.clone()).expect("templates parse"))
            .layer(
                LoginLayerBuilder::new(&service, sessions.clone())
                    .backend(backend)
                    .build(),
            );
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("the server runs");
        });
        ServerHandle::new(move || server.abort()).with_session_count(move || sessions.len())
    }
}

const MEMBERS: &str = "/members/";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_form_logs_in_to_the_protected_page() {
    let site = Site::standard::<AppWithPasswords>();
    let browser = site.browser();
    let reply = browser.get(MEMBERS).await;
    assert_eq!(
        reply.expect(StatusCode::FOUND).location(),
        "/accounts/login/?next=%2Fmembers%2F",
        "anonymous visitors are sent to our login page"
    );

    let wrong = [("username", "alice"), ("password", "wrong")];
    browser
        .post_form("/password-login", &wrong)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    browser.get(MEMBERS).await.expect(StatusCode::FOUND);

    let right = [("username", "alice"), ("password", "correct horse")];
    let reply = browser.post_form("/password-login", &right).await;
    assert_eq!(reply.expect(StatusCode::SEE_OTHER).location(), MEMBERS);
    let page = browser.get(MEMBERS).await;
    assert_eq!(page.expect(StatusCode::OK).body, "Members only: alice");
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_link_logs_in_to_the_apps_backend() {
    let site = Site::standard::<AppWithPasswords>();
    let (browser, message) = site.ask("alice", Some(MEMBERS)).await;
    let reply = browser.follow_link(&site.local(&message.url)).await;
    assert_eq!(reply.expect(StatusCode::FOUND).location(), MEMBERS);
    let page = browser.get(MEMBERS).await;
    assert_eq!(page.expect(StatusCode::OK).body, "Members only: alice");
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    assert_eq!(site.sessions(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_code_logs_in_to_the_apps_backend() {
    let site = Site::standard::<AppWithPasswords>();
    let (browser, message) = site.ask("alice", None).await;
    let form = site.path("login/code/");
    let token = browser.csrf(&form).await;
    let fields = [
        ("csrfmiddlewaretoken", token.as_str()),
        ("username", "alice"),
        ("code", message.code.expose()),
    ];
    browser
        .post_form(&form, &fields)
        .await
        .expect(StatusCode::FOUND);
    let page = browser.get(MEMBERS).await;
    assert_eq!(page.expect(StatusCode::OK).body, "Members only: alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composites_code_credentials_log_in_through_the_apps_own_handler() {
    let site = Site::standard::<AppWithPasswords>();
    let (browser, message, flow) = site.ask_api("alice", None).await;
    let wrong = json!({ "username": "alice", "code": "not-the-code", "flow": flow });
    browser
        .post_json("/code-login", &wrong)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let body = json!({ "username": "alice", "code": message.code.expose(), "flow": flow });
    let reply = browser.post_json("/code-login", &body).await;
    assert_eq!(reply.expect(StatusCode::OK).json()["username"], "alice");
    browser.get(MEMBERS).await.expect(StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_logs_in_and_out_of_the_apps_backend() {
    let site = Site::standard::<AppWithPasswords>();
    let (browser, message, flow) = site.ask_api("alice", None).await;
    let body = json!({ "username": "alice", "code": message.code.expose(), "flow": flow });
    let reply = browser.post_json(&site.url("api/login/code/"), &body).await;
    reply.expect(StatusCode::OK);
    browser.get(MEMBERS).await.expect(StatusCode::OK);

    let logout = browser
        .post_json(&site.url("api/logout/"), &json!({}))
        .await;
    logout.expect(StatusCode::OK);
    assert_eq!(browser.whoami().await, None);
    browser.get(MEMBERS).await.expect(StatusCode::FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_answers_json_clients_with_the_apis_401() {
    let site = Site::standard::<AppWithPasswords>();
    let browser = site.browser();
    let request = browser
        .request(Method::GET, MEMBERS)
        .header(header::ACCEPT, "application/json");
    let reply = browser.send(request).await;
    let body: Value = reply.expect(StatusCode::UNAUTHORIZED).json();
    assert_eq!(
        body,
        json!({ "detail": "Authentication credentials were not provided.", "code": "unauthenticated" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_member_loses_the_protected_page() {
    let site = Site::standard::<AppWithPasswords>();
    let browser = site.browser();
    let right = [("username", "alice"), ("password", "correct horse")];
    browser.post_form("/password-login", &right).await;
    browser.get(MEMBERS).await.expect(StatusCode::OK);
    site.users.deactivate("alice");
    browser.get(MEMBERS).await.expect(StatusCode::FOUND);
}
