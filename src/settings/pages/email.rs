//! The Email tab: the SMTP server, a test email and the local outbox.

use leptos::prelude::*;

use crate::settings::api::*;
use crate::settings::model::{EmailSettings, SmtpInput};
use crate::mail::model::{outbox_href, OutboxMessage};
use crate::auth::context::use_me;
use crate::components::form::{Field, FormError, FormErrors};
use crate::format::date_time;
use crate::components::loaded::Loaded;
use crate::components::table::rows_or_empty;
use crate::components::toast::use_toaster;
use crate::locale::{td_string, tr, use_i18n};
use super::on_done;
use crate::locale::fill;
use crate::components::tabs::SettingsTabs;

#[component]
pub fn EmailSettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSmtpSettings>::new();
    let remove = ServerAction::<RemoveSmtpSettings>::new();
    let test = ServerAction::<SendTestEmail>::new();
    let settings = Resource::new(move || (save.version().get(), remove.version().get()), |_| get_email_settings());
    let outbox = Resource::new(move || (test.version().get(), remove.version().get(), save.version().get()), |_| list_outbox());
    let me = use_me();
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    on_done(move || remove.value().get(), td_string!(locale, settings.email.removed), false);
    view! {
        <SettingsTabs current="/settings/email"/>
        <Transition fallback=move || view! { <p class="loading">{tr(i18n, |l| td_string!(l, settings.loading))}</p> }>
            {move || Suspend::new(async move {
                let admin = me.await.map(|m| m.is_admin()).unwrap_or(false);
                Some(view! {
                    <Loaded resource=settings loading=td_string!(locale, settings.email.loading) render=move |s: EmailSettings| view! {
                        <SmtpCard settings=s admin save remove/>
                    }/>
                    {admin.then(|| view! {
                        <TestEmailCard test/>
                        <section class="card">
                            <h2>{tr(i18n, |l| td_string!(l, settings.email.outbox))}</h2>
                            <p class="muted">{tr(i18n, |l| td_string!(l, settings.email.outbox_note))}</p>
                            <Loaded resource=outbox loading=td_string!(locale, settings.email.outbox_loading) render=|messages| view! { <OutboxTable messages/> }/>
                        </section>
                    })}
                })
            })}
        </Transition>
    }
}

#[component]
fn SmtpCard(settings: EmailSettings, admin: bool, save: ServerAction<SaveSmtpSettings>, remove: ServerAction<RemoveSmtpSettings>) -> impl IntoView {
    let current = settings.smtp.clone();
    let host = RwSignal::new(current.as_ref().map(|s| s.host.clone()).unwrap_or_default());
    let port = RwSignal::new(current.as_ref().map(|s| s.port.to_string()).unwrap_or_else(|| "587".into()));
    let security = RwSignal::new(current.as_ref().map(|s| s.security.clone()).unwrap_or_else(|| "starttls".into()));
    let username = RwSignal::new(current.as_ref().and_then(|s| s.username.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let from = RwSignal::new(current.as_ref().map(|s| s.from.clone()).unwrap_or_default());
    // A saved server without encryption but with a user name was an explicit choice already.
    let plain_auth = RwSignal::new(current.as_ref().is_some_and(|s| s.security == "none" && s.username.as_deref().is_some_and(|u| !u.is_empty())));
    let has_password = current.as_ref().and_then(|s| s.has_password).unwrap_or(false);
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success(td_string!(i18n.get_locale_untracked(), settings.email.saved));
                password.set(String::new());
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let smtp = SmtpInput {
            host: host.get(),
            port: port.get(),
            security: security.get(),
            username: username.get(),
            password: password.get(),
            clear_password: None,
            from: from.get(),
            plain_auth: plain_auth.get(),
        };
        let found = smtp.validate(i18n.get_locale_untracked());
        errors.0.set(found.clone());
        if found.is_empty() {
            save.dispatch(SaveSmtpSettings { smtp });
        }
    };
    let own = settings.smtp.is_some();
    let console = settings.console_smtp.clone();
    let status = move || {
        let locale = i18n.get_locale();
        if own {
            td_string!(locale, settings.email.status_own).to_string()
        } else if let Some(console) = &console {
            fill(td_string!(locale, settings.email.status_console), &[("console", console)])
        } else {
            td_string!(locale, settings.email.status_none).to_string()
        }
    };
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, settings.email.smtp))}</h2>
            <p class="muted" data-testid="smtp-status">{status}</p>
            <form class="form" on:submit=submit novalidate>
                <div class="field-row">
                    <Field label=td_string!(locale, settings.email.host) name="host" error=errors.message("host")>
                        <input id="host" type="text" bind:value=host disabled=!admin placeholder="smtp.example.com"/>
                    </Field>
                    <Field label=td_string!(locale, settings.email.port) name="port" error=errors.message("port")>
                        <input id="port" type="text" inputmode="numeric" bind:value=port disabled=!admin/>
                    </Field>
                    <Field label=td_string!(locale, settings.email.security) name="security" error=errors.message("security")>
                        <select id="security" disabled=!admin prop:value=move || security.get() on:change=move |ev| security.set(event_target_value(&ev))>
                            <option value="starttls">"STARTTLS"</option>
                            <option value="tls">"TLS"</option>
                            <option value="none">{tr(i18n, |l| td_string!(l, settings.email.security_none))}</option>
                        </select>
                    </Field>
                </div>
                <div class="field-row">
                    <Field label=td_string!(locale, settings.email.username) name="username" error=errors.message("username")>
                        <input id="username" type="text" autocomplete="off" bind:value=username disabled=!admin/>
                    </Field>
                    <Field
                        label=td_string!(locale, settings.email.password)
                        name="password"
                        error=errors.message("password")
                        hint=if has_password { td_string!(locale, settings.email.password_stored) } else { td_string!(locale, settings.email.password_new) }
                    >
                        <input id="password" type="password" autocomplete="new-password" bind:value=password disabled=!admin/>
                    </Field>
                </div>
                <Show when=move || security.get() == "none" && !username.get().trim().is_empty()>
                    <div class="notice notice-warning" data-testid="plain-auth-warning">
                        <p>{tr(i18n, |l| td_string!(l, settings.email.plain_warning))}</p>
                        <label class="check">
                            <input type="checkbox" bind:checked=plain_auth disabled=!admin/>
                            {tr(i18n, |l| td_string!(l, settings.email.plain_auth))}
                        </label>
                    </div>
                </Show>
                <Field label=td_string!(locale, settings.email.from) name="from" error=errors.message("from") hint=td_string!(locale, settings.email.from_hint)>
                    <input id="from" type="text" bind:value=from disabled=!admin/>
                </Field>
                <FormError message=form_error/>
                {admin.then(|| view! {
                    <div class="form-actions">
                        {settings.smtp.is_some().then(|| view! {
                            <button class="btn" type="button" on:click=move |_| { remove.dispatch(RemoveSmtpSettings {}); }>{tr(i18n, |l| td_string!(l, settings.email.remove))}</button>
                        })}
                        <button class="btn btn-primary" type="submit" disabled=move || save.pending().get()>{tr(i18n, |l| td_string!(l, settings.email.save))}</button>
                    </div>
                })}
            </form>
        </section>
    }
}

#[component]
fn TestEmailCard(test: ServerAction<SendTestEmail>) -> impl IntoView {
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    let i18n = use_i18n();
    Effect::new(move |_| {
        if let Some(result) = test.value().get() {
            form_error.set(errors.absorb(&result));
            if let Ok(reply) = result {
                toaster.success(fill(td_string!(i18n.get_locale_untracked(), settings.email.test_sent), &[("reply", &reply)]));
            }
        }
    });
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, settings.email.test))}</h2>
            <ActionForm action=test attr:class="inline-form" attr:novalidate=true>
                <Field label=td_string!(i18n.get_locale_untracked(), settings.email.to) name="to" error=errors.message("to")>
                    <input id="to" name="to" type="email" placeholder="you@example.com"/>
                </Field>
                <button class="btn btn-primary" type="submit" disabled=move || test.pending().get()>
                    {move || if test.pending().get() { td_string!(i18n.get_locale(), settings.email.sending) } else { td_string!(i18n.get_locale(), settings.email.test) }}
                </button>
            </ActionForm>
            <FormError message=form_error/>
        </section>
    }
}

#[component]
fn OutboxTable(messages: Vec<OutboxMessage>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="table-wrap">
                                    <table class="table dense" data-testid="outbox-table">
                                        <thead><tr>
                                            <th>{tr(i18n, |l| td_string!(l, settings.email.written))}</th>
                                            <th>{tr(i18n, |l| td_string!(l, settings.email.to))}</th>
                                            <th>{tr(i18n, |l| td_string!(l, settings.email.subject))}</th>
                                            <th class="right">{tr(i18n, |l| td_string!(l, settings.email.size))}</th>
                                            <th></th>
                                        </tr></thead>
                                        <tbody>
                                            {rows_or_empty(messages, 5, td_string!(i18n.get_locale_untracked(), settings.email.outbox_empty), move |m| view! {
                                                <tr>
                                                    <td>{date_time(Some(m.at))}</td>
                                                    <td>{m.to}</td>
                                                    <td>{m.subject}</td>
                                                    <td class="right">{format!("{} KB", (m.size + 1023) / 1024)}</td>
                                                    <td class="right"><a href=outbox_href(&m.id) rel="external" download>{tr(i18n, |l| td_string!(l, settings.email.download))}</a></td>
                                                </tr>
                                            })}
                                        </tbody>
                                    </table>
                                </div>
    }
}
