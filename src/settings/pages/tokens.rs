//! The API tokens tab: tokens that scanners and agents send data with, and their revocation.

use leptos::prelude::*;

use crate::settings::api::*;
use crate::components::form::{Field, FormError, FormErrors};
use crate::format::date_time;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::rows_or_empty;
use crate::locale::{td_string, tr, use_i18n};
use super::on_done;
use crate::locale::fill;
use crate::components::tabs::SettingsTabs;

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
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    on_done(move || revoke.value().get(), td_string!(locale, settings.tokens.revoked), false);
    // The token a Revoke button asked about, confirmed in a dialog before anything happens.
    let confirming: Asking = RwSignal::new(None);
    view! {
        <SettingsTabs current="/settings/tokens"/>
        <ConfirmDialog
            asking=confirming
            title=td_string!(locale, settings.tokens.revoke_title)
            question=|name| fill(td_string!(use_i18n().get_locale(), settings.tokens.revoke_question), &[("name", name)])
            confirm_label=td_string!(locale, settings.tokens.revoke_confirm)
            on_confirm=Callback::new(move |id| {
                revoke.dispatch(RevokeToken { id });
            })
        />
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, settings.tokens.create_title))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, settings.tokens.create_note))}</p>
            <ActionForm action=create attr:class="inline-form">
                <Field label=td_string!(locale, settings.tokens.token_name) name="name" error=errors.message("name")>
                    <input id="name" name="name" type="text" required maxlength="64"/>
                </Field>
                <button class="btn btn-primary" type="submit">{tr(i18n, |l| td_string!(l, settings.tokens.create))}</button>
            </ActionForm>
            <FormError message=form_error/>
            {move || create.value().get().and_then(|r| r.ok()).map(|t| view! {
                <div class="notice notice-warning">
                    <p>{move || fill(td_string!(i18n.get_locale(), settings.tokens.copy_now), &[("name", &t.name)])}</p>
                    <div class="secret-once" data-testid="new-token">{t.token}</div>
                </div>
            })}
        </section>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, settings.tokens.title))}</h2>
            <Loaded resource=tokens loading=td_string!(locale, settings.tokens.loading) render=move |tokens| view! {
                            <div class="table-wrap">
                                <table class="table" data-testid="token-table">
                                    <thead><tr>
                                        <th>{tr(i18n, |l| td_string!(l, settings.tokens.name))}</th>
                                        <th>{tr(i18n, |l| td_string!(l, settings.tokens.token))}</th>
                                        <th>{tr(i18n, |l| td_string!(l, settings.tokens.created))}</th>
                                        <th>{tr(i18n, |l| td_string!(l, settings.tokens.last_used))}</th>
                                        <th>{tr(i18n, |l| td_string!(l, settings.tokens.status))}</th>
                                        <th></th>
                                    </tr></thead>
                                    <tbody>
                                        {rows_or_empty(tokens, 6, td_string!(locale, settings.tokens.empty), move |t| {
                                                let active = t.revoked_at.is_none();
                                                let asked = (t.id, t.name.clone());
                                                view! {
                                                    <tr>
                                                        <td>{t.name}</td>
                                                        <td class="mono">{format!("{}…", t.prefix)}</td>
                                                        <td>{date_time(Some(t.created_at))}</td>
                                                        <td>{date_time(t.last_used_at)}</td>
                                                        <td>{move || {
                                                            let locale = i18n.get_locale();
                                                            if active {
                                                                td_string!(locale, settings.tokens.active).to_string()
                                                            } else {
                                                                fill(td_string!(locale, settings.tokens.revoked_at), &[("date", &date_time(t.revoked_at))])
                                                            }
                                                        }}</td>
                                                        <td class="right">
                                                            {active.then(|| view! { <AskButton asking=confirming item=asked label=td_string!(locale, settings.tokens.revoke)/> })}
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
