//! The HTTP contract of docs/HTTP.md (routes, security floor, login flows), written once against plain HTTP so every web adapter passes the same suite.
//!
//! Each test is an `async fn name<A: Adapter>()`; [`conformance_tests!`](crate::conformance_tests)
//! makes a `#[test]` of every one for a given adapter. A test written here but missing from the
//! macro's list would silently not run; this crate's own unit test refuses that.

pub mod api;
pub mod approval;
pub mod code_form;
pub mod flows;
pub mod i18n;
pub mod links;
pub mod login;
pub mod logout;
pub mod operations;
pub mod security;

/// The texts docs/HTTP.md fixes, word for word (the original project's).
pub mod text {
    /// The page after `POST login/`.
    pub const SENT: &str = "We sent you a mail with a login link";
    /// A required field was empty.
    pub const REQUIRED: &str = "This field is required.";
    /// A typed or posted code did not log in.
    pub const INVALID_CODE: &str = "Unable to log in with provided login code.";
    /// `POST api/login/`.
    pub const CODE_SENT: &str = "Login code has been sent.";
    /// `POST api/logout/`.
    pub const LOGGED_OUT: &str = "Successfully logged out.";
    /// Title of the auto-submitting page.
    pub const LOGGING_IN: &str = "Logging in...";
    /// Its `<noscript>` button.
    pub const CLICK_TO_LOGIN: &str = "Click here to login";
    /// Title of the page another browser sees under `cross_device_links = "confirm"`.
    pub const CONFIRM_LOGIN: &str = "Confirm login";
    /// Its button.
    pub const LOG_IN: &str = "Log in";
    /// The 403 page another browser sees under `cross_device_links = "deny"`.
    pub const OTHER_BROWSER: &str = "Open this link in the browser where you asked to log in.";
    /// 401 from `CurrentUser`.
    pub const UNAUTHENTICATED: &str = "Authentication credentials were not provided.";
    /// The waiting page's button (docs/HTTP.md, Cross-device approval).
    pub const CONTINUE: &str = "Continue";
    /// 401 of `api/login/flow/complete/`; the waiting page after an early "Continue".
    pub const FLOW_NOT_APPROVED: &str = "This login has not been approved yet.";
    /// Title of the approval page after the right number.
    pub const LOGIN_APPROVED: &str = "Login approved";
    /// Title of the approval page after a wrong number (400).
    pub const NOT_APPROVED: &str = "Login not approved";
    /// Its message.
    pub const WRONG_NUMBER: &str =
        "That is not the number shown on the device where you asked to log in.";
    /// The "Confirm login" page once its link can no longer approve another device.
    pub const NO_MORE_APPROVAL: &str = "This link can no longer approve another device.";
}

/// Asserts a redirect target stays on this site: a path, not `//host`, `/\host`, a scheme or
/// anything a browser would read as another host.
#[track_caller]
pub fn assert_same_site(location: &str) {
    let b = location.as_bytes();
    assert!(
        b.first() == Some(&b'/')
            && !matches!(b.get(1), Some(b'/' | b'\\'))
            && b.iter().all(|&c| (0x21..=0x7e).contains(&c) && c != b'\\'),
        "Location leaves the site: {location:?}"
    );
}

/// Every contract test, as `#[test]`s for `$adapter`, in modules named like the contract's
/// (`login::form_has_username_next_and_csrf`, ...). Each runs on its own two-thread tokio
/// runtime ([`run`](crate::run)). See the [crate docs](crate) for an example.
#[macro_export]
macro_rules! conformance_tests {
    ($adapter:ty) => {
        $crate::conformance_tests!(@emit $adapter;
            login {
                form_has_username_next_and_csrf,
                form_carries_only_a_safe_next,
                submit_sends_a_link_to_a_known_user,
                submit_answers_alike_for_unknown_and_inactive_users,
                submit_without_username_shows_the_form_again,
                next_from_the_form_is_where_the_login_goes,
                templates_are_overridden_by_name,
                a_page_that_fails_to_render_is_a_plain_503,
                head_of_the_forms_is_200_without_a_body,
            }
            links {
                get_renders_the_auto_submitting_page,
                get_does_not_consume_the_code,
                post_logs_in_and_redirects_to_next,
                used_code_is_404,
                expired_code_is_404,
                wrong_code_is_404,
                undecodable_link_is_404,
                head_never_consumes,
                head_never_consumes_without_post_redirect,
                get_logs_in_without_post_redirect,
                hide_username_links_carry_only_the_code,
                numeric_codes_have_code_length_digits,
                code_length_shapes_hex_codes,
                username_is_percent_encoded_and_round_trips,
                mount_path_moves_every_route,
                mount_path_at_the_root,
            }
            code_form {
                form_asks_for_username_and_code,
                valid_code_logs_in,
                invalid_code_shows_the_form_error,
                missing_fields_show_field_errors,
                hide_username_needs_only_the_code,
            }
            i18n {
                pages_speak_the_browsers_language,
                api_speaks_the_clients_language,
                english_without_a_header_or_for_english,
                negotiation_weighs_q_values_and_falls_back_to_the_default,
                the_apps_choice_wins,
            }
            logout {
                get_asks_and_the_form_ends_the_session,
                get_follows_a_safe_next,
                logout_on_get_ends_the_session_on_get,
                post_ends_the_session,
                head_does_not_end_the_session,
            }
            api {
                login_sends_a_code,
                login_answers_alike_for_unknown_and_inactive_users,
                login_requires_a_username,
                login_code_logs_in,
                login_code_invalid_is_400,
                login_code_requires_fields,
                login_code_with_hide_username_needs_only_the_code,
                logout_ends_the_session,
                wrong_content_type_is_415,
                malformed_json_is_400,
                current_user_without_login_is_401,
            }
            security {
                open_redirects_never_leave_the_site_after_login,
                open_redirects_never_leave_the_site_after_logout,
                forged_host_never_reaches_the_link,
                forwarded_host_counts_only_from_trusted_proxies,
                forwarded_for_counts_only_from_trusted_proxies,
                one_code_logs_in_once_under_48_concurrent_posts,
                posts_without_a_valid_csrf_token_are_403,
                csrf_refusals_change_nothing,
                oversized_bodies_are_413,
                malformed_forms_are_400,
                non_form_bodies_on_form_routes_are_415,
                too_many_requests_from_one_address_is_429,
                too_many_codes_for_one_user_is_429,
                too_many_code_tries_from_one_address_is_429,
                a_code_dies_after_max_code_attempts,
                a_user_is_locked_out_after_max_user_failures,
                store_outage_is_503_without_internals,
                sender_outage_is_503_without_internals,
                code_pages_are_neither_cached_nor_referred,
                every_page_carries_the_csp_and_no_inline_script_or_style,
                session_cookie_is_httponly_and_lax_and_not_secure_over_http,
                session_cookie_is_secure_behind_a_trusted_https_proxy,
                https_from_an_untrusted_peer_is_not_believed,
                session_id_changes_at_login,
                a_logged_out_session_cookie_is_dead,
            }
            flows {
                flow_cookie_is_httponly_lax_scoped_and_lives_as_long_as_the_code,
                unknown_and_inactive_users_get_a_flow_of_the_same_shape,
                a_second_request_continues_the_flow,
                the_asking_browser_gets_the_logging_in_page,
                another_browser_confirms_before_logging_in,
                confirm_without_post_redirect_still_asks,
                allow_shows_the_logging_in_page_to_anyone,
                deny_refuses_other_browsers_and_spends_nothing,
                mail_scanners_spend_nothing,
                login_csrf_victim_sees_the_attackers_account,
                typed_code_without_its_flow_is_refused,
                guesses_without_the_flow_spend_nothing,
                guesses_within_the_flow_spend_the_code_and_the_user,
                parallel_guesses_never_pass_the_cap,
                parallel_guesses_are_all_counted,
                short_codes_never_travel_in_links,
                short_codes_with_hide_username_need_their_flow,
                anonymous_visitors_store_nothing,
                csrf_needs_the_signed_cookie_and_its_token,
                the_session_id_changes_at_login_whatever_the_request_carried,
                dot_segments_in_next_never_leave_the_site,
                a_sender_outage_in_the_background_answers_alike,
                response_times_do_not_tell_real_users_from_unknown,
            }
            approval {
                the_waiting_page_shows_the_number_and_a_continue_form,
                the_api_answers_the_number_the_approval_page_offers,
                the_approval_page_offers_three_numbers_and_no_script,
                the_right_pick_approves_without_logging_the_picker_in,
                the_waiting_browser_completes_once,
                the_api_completes_once,
                a_wrong_pick_is_400_and_turns_approval_off,
                three_wrong_picks_withdraw_the_code,
                strangers_learn_nothing_and_complete_nothing,
                picks_are_403_and_spend_nothing_outside_confirm,
                an_early_continue_shows_the_waiting_page_again,
                one_of_64_concurrent_api_completes_logs_in,
                the_approval_pages_speak_spanish,
            }
            operations {
                readiness_is_200_while_store_and_sender_answer,
                readiness_is_503_naming_what_is_down,
            }
        );
    };
    (@emit $adapter:ty; $($group:ident { $($test:ident),* $(,)? })*) => {
        /// The adapter the generated tests run against.
        type AdapterUnderTest = $adapter;
        $(
            mod $group {
                $(
                    #[test]
                    fn $test() {
                        $crate::run($crate::contract::$group::$test::<super::AdapterUnderTest>());
                    }
                )*
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    /// Every `pub async fn name<A: Adapter>()` of the contract is listed in
    /// `conformance_tests!`, in its own group.
    #[test]
    fn every_contract_test_is_in_the_macro() {
        let listing = include_str!("mod.rs");
        let groups = [
            ("login", include_str!("login.rs")),
            ("links", include_str!("links.rs")),
            ("code_form", include_str!("code_form.rs")),
            ("logout", include_str!("logout.rs")),
            ("api", include_str!("api.rs")),
            ("security", include_str!("security.rs")),
            ("flows", include_str!("flows.rs")),
            ("approval", include_str!("approval.rs")),
            ("operations", include_str!("operations.rs")),
        ];
        let mut count = 0;
        for (group, source) in groups {
            let start = listing
                .find(&format!("            {group} {{"))
                .unwrap_or_else(|| panic!("group {group} is in the macro"));
            let end = start + listing[start..].find('}').expect("group ends");
            let listed = &listing[start..end];
            for line in source.lines() {
                let Some(rest) = line.strip_prefix("pub async fn ") else {
                    continue;
                };
                let name = rest.split('<').next().expect("a name");
                count += 1;
                assert!(
                    listed.contains(&format!(" {name},")),
                    "{group}::{name} is not in conformance_tests!"
                );
            }
        }
        assert!(count >= 80, "{count} tests found");
    }
}
