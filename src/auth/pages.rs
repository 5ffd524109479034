//! The sign-in page. It works without JavaScript: the form posts to the server function, which
//! redirects on success.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::SignIn;
use crate::error::AppError;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next")).unwrap_or_else(|| "/".to_string());
    let error = move || match action.value().get() {
        Some(Err(AppError::Validation(fields))) => Some(fields.into_values().collect::<Vec<_>>().join(" ")),
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <div class="sign-in-page">
            <div class="sign-in-card">
                <div class="brand">
                    <span class="brand-mark"></span>
                    "Bulwark"
                </div>
                <h1>"Sign in"</h1>
                <ActionForm action=action attr:class="form">
                    <input type="hidden" name="next" value=next/>
                    <div class="field">
                        <label for="email">"Email"</label>
                        <input id="email" name="email" type="email" autocomplete="username" required/>
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required/>
                    </div>
                    {move || error().map(|e| view! { <div class="form-error" role="alert" data-testid="sign-in-error">{e}</div> })}
                    <div class="form-actions">
                        <button class="btn btn-primary" type="submit" disabled=move || action.pending().get()>
                            {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                        </button>
                    </div>
                </ActionForm>
            </div>
        </div>
    }
}
