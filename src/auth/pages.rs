//! The sign-in page. It works without JavaScript: the form posts to the server function, which
//! redirects on success.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{SetLanguage, SignIn};
use crate::error::AppError;
use crate::locale::{self, td_string, tr, use_i18n};

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let i18n = use_i18n();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next")).unwrap_or_else(|| "/".to_string());
    let error = move || match action.value().get() {
        Some(Err(AppError::Validation(fields))) => Some(fields.into_values().collect::<Vec<_>>().join(" ")),
        Some(Err(e)) => Some(e.message_in(i18n.get_locale())),
        _ => None,
    };
    view! {
        <div class="sign-in-page">
            <div class="sign-in-card">
                <div class="sign-in-top">
                    <div class="brand">
                        <span class="brand-mark"></span>
                        "Bulwark"
                    </div>
                    <LanguageSelect/>
                </div>
                <h1>{tr(i18n, |l| td_string!(l, common.sign_in.title))}</h1>
                <ActionForm action=action attr:class="form">
                    <input type="hidden" name="next" value=next/>
                    <div class="field">
                        <label for="email">{tr(i18n, |l| td_string!(l, common.sign_in.email))}</label>
                        <input id="email" name="email" type="email" autocomplete="username" required/>
                    </div>
                    <div class="field">
                        <label for="password">{tr(i18n, |l| td_string!(l, common.sign_in.password))}</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required/>
                    </div>
                    {move || error().map(|e| view! { <div class="form-error" role="alert" data-testid="sign-in-error">{e}</div> })}
                    <div class="form-actions">
                        <button class="btn btn-primary" type="submit" disabled=move || action.pending().get()>
                            {move || {
                                let l = i18n.get_locale();
                                if action.pending().get() { td_string!(l, common.sign_in.pending) } else { td_string!(l, common.sign_in.submit) }
                            }}
                        </button>
                    </div>
                </ActionForm>
            </div>
        </div>
    }
}

/// The language selector. The choice applies at once (every label follows it), is kept in a
/// cookie so the server renders the next page in it, and, for a signed-in user (`stored`), is
/// saved with the user so it follows them to another browser.
#[component]
pub fn LanguageSelect(#[prop(optional)] stored: bool) -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<SetLanguage>::new();
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        if let Some(chosen) = locale::parse(&value) {
            i18n.set_locale(chosen);
            if stored {
                save.dispatch(SetLanguage { language: value });
            }
        }
    };
    view! {
        <select
            class="language-select"
            data-testid="language"
            aria-label=tr(i18n, |l| td_string!(l, common.language.label))
            on:change=on_change
        >
            {locale::all()
                .into_iter()
                .map(|(option, name)| {
                    view! {
                        <option value=locale::tag(option) selected=move || i18n.get_locale() == option>
                            {name}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}
