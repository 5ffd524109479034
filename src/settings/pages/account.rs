//! The Account tab: the account's name, id and edition (read-only: the operator sets it), its
//! time zone and its default language.

use leptos::prelude::*;

use crate::settings::api::*;
use crate::settings::model::EmailSettings;
use crate::auth::context::use_me;
use crate::components::form::{Field, FormError, FormErrors};
use crate::components::loaded::Loaded;
use crate::components::tabs::SettingsTabs;
use crate::components::toast::use_toaster;
use crate::error::AppError;

#[component]
pub fn AccountSettingsPage() -> impl IntoView {
    let me = use_me();
    // At the page's top, not in the time-zone card: that card renders inside the Suspend below,
    // and a resource created there hydrates out of order now and then.
    let zone_settings = Resource::new(|| (), |_| get_email_settings());
    view! {
        <SettingsTabs current="/settings/account"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = me.await.ok()?;
                let admin = me.is_admin();
                let account = me.account.clone();
                Some(view! {
                    <section class="card">
                        <dl class="details">
                            <dt>"Account name"</dt>
                            <dd>{account.name.clone()}</dd>
                            <dt>"Account id"</dt>
                            <dd class="mono">{account.account_no.clone()}</dd>
                            <dt>"Edition"</dt>
                            <dd data-testid="current-edition">{account.edition.label()}</dd>
                        </dl>
                        <p class="muted" data-testid="edition-note">
                            "Your console operator sets the edition. Security reports need Advanced; playbooks, container signature and multi-account control need Enterprise."
                        </p>
                    </section>
                    <TimeZoneCard admin settings=zone_settings/>
                    <LanguageCard admin settings=zone_settings/>
                })
            })}
        </Transition>
    }
}

/// Common IANA zones offered as suggestions; any IANA name is accepted.
const ZONE_SUGGESTIONS: [&str; 16] = [
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Moscow", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo",
    "Asia/Kolkata", "Asia/Dubai", "Australia/Sydney",
];

#[component]
fn TimeZoneCard(admin: bool, settings: Resource<Result<EmailSettings, AppError>>) -> impl IntoView {
    let action = ServerAction::<SetTimeZone>::new();
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    Effect::new(move |_| {
        if let Some(result) = action.value().get() {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success("Time zone changed; report schedules follow it.");
            }
        }
    });
    view! {
        <section class="card">
            <h2>"Time zone"</h2>
            <p class="muted">"Report periods and report times are in this zone (an IANA name such as Europe/Berlin)."</p>
            <Loaded resource=settings loading="Loading…" render=move |s: EmailSettings| view! {
                <ActionForm action=action attr:class="inline-form">
                    <Field label="Time zone" name="time_zone" error=errors.message("time_zone")>
                        <input id="time_zone" name="time_zone" type="text" list="zones" value=s.time_zone.clone() disabled=!admin autocomplete="off"/>
                    </Field>
                    <datalist id="zones">
                        {ZONE_SUGGESTIONS.iter().map(|z| view! { <option value=*z></option> }).collect_view()}
                    </datalist>
                    <button class="btn btn-primary" type="submit" disabled=!admin>"Save time zone"</button>
                </ActionForm>
                <FormError message=form_error/>
            }/>
        </section>
    }
}

/// The account's default language: what its scheduled reports are written in.
#[component]
fn LanguageCard(admin: bool, settings: Resource<Result<EmailSettings, AppError>>) -> impl IntoView {
    let action = ServerAction::<SetAccountLanguage>::new();
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    Effect::new(move |_| {
        if let Some(result) = action.value().get() {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success("Report language changed.");
            }
        }
    });
    view! {
        <section class="card">
            <h2>"Report language"</h2>
            <p class="muted">"Scheduled and sent-now reports of this account are written in this language."</p>
            <Loaded resource=settings loading="Loading…" render=move |s: EmailSettings| view! {
                <ActionForm action=action attr:class="inline-form">
                    <Field label="Language" name="language" error=errors.message("language")>
                        <select id="language" name="language" disabled=!admin>
                            {crate::locale::all()
                                .into_iter()
                                .map(|(option, name)| {
                                    let tag = crate::locale::tag(option);
                                    view! { <option value=tag selected=s.language == tag>{name}</option> }
                                })
                                .collect_view()}
                        </select>
                    </Field>
                    <button class="btn btn-primary" type="submit" disabled=!admin>"Save language"</button>
                </ActionForm>
                <FormError message=form_error/>
            }/>
        </section>
    }
}
