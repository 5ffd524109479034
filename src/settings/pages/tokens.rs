//! The API tokens tab: tokens that scanners and agents send data with, and their revocation.

use leptos::prelude::*;

use crate::settings::api::*;
use crate::components::form::{Field, FormError, FormErrors};
use crate::format::date_time;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::rows_or_empty;
use crate::components::tabs::SettingsTabs;
use super::on_done;

#[component]
pub fn TokenSettingsPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(result) = create.value().get() {
            form_error.set(errors.absorb(&result));
        }
    });
    on_done(move || revoke.value().get(), "Token revoked.", false);
    // The token a Revoke button asked about, confirmed in a dialog before anything happens.
    let confirming: Asking = RwSignal::new(None);
    view! {
        <SettingsTabs current="/settings/tokens"/>
        <ConfirmDialog
            asking=confirming
            title="Revoke API token"
            question=|name| format!("Revoke \"{name}\"? Whatever uses it is refused from now on. This cannot be undone.")
            confirm_label="Revoke token"
            on_confirm=Callback::new(move |id| {
                revoke.dispatch(RevokeToken { id });
            })
        />
        <section class="card">
            <h2>"Create an API token"</h2>
            <p class="muted">"Scanners and agents use a token to send data to the ingestion API (/api/v1/…). The token is shown once; Bulwark keeps only its hash."</p>
            <ActionForm action=create attr:class="inline-form">
                <Field label="Token name" name="name" error=errors.message("name")>
                    <input id="name" name="name" type="text" required maxlength="64"/>
                </Field>
                <button class="btn btn-primary" type="submit">"Create token"</button>
            </ActionForm>
            <FormError message=form_error/>
            {move || create.value().get().and_then(|r| r.ok()).map(|t| view! {
                <div class="notice notice-warning">
                    <p>{format!("Copy the token \"{}\" now: it will not be shown again.", t.name)}</p>
                    <div class="secret-once" data-testid="new-token">{t.token}</div>
                </div>
            })}
        </section>
        <section class="card">
            <h2>"Tokens"</h2>
            <Loaded resource=tokens loading="Loading tokens…" render=move |tokens| view! {
                            <div class="table-wrap">
                                <table class="table" data-testid="token-table">
                                    <thead><tr><th>"Name"</th><th>"Token"</th><th>"Created"</th><th>"Last used"</th><th>"Status"</th><th></th></tr></thead>
                                    <tbody>
                                        {rows_or_empty(tokens, 6, "No tokens yet.", |t| {
                                                let active = t.revoked_at.is_none();
                                                let asked = (t.id, t.name.clone());
                                                view! {
                                                    <tr>
                                                        <td>{t.name}</td>
                                                        <td class="mono">{format!("{}…", t.prefix)}</td>
                                                        <td>{date_time(Some(t.created_at))}</td>
                                                        <td>{date_time(t.last_used_at)}</td>
                                                        <td>{if active { "Active".to_string() } else { format!("Revoked {}", date_time(t.revoked_at)) }}</td>
                                                        <td class="right">
                                                            {active.then(|| view! { <AskButton asking=confirming item=asked label="Revoke"/> })}
                                                        </td>
                                                    </tr>
                                                }
                                        })}
                                    </tbody>
                                </table>
                            </div>
            }/>
        </section>
    }
}
