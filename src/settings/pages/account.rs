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
use crate::locale::{Label, td_string, tr, use_i18n};

#[component]
pub fn AccountSettingsPage() -> impl IntoView {
    let me = use_me();
    // At the page's top, not in the time-zone card: that card renders inside the Suspend below,
    // and a resource created there hydrates out of order now and then.
    let zone_settings = Resource::new(|| (), |_| get_email_settings());
    let i18n = use_i18n();
    view! {
        <SettingsTabs current="/settings/account"/>
        <Transition fallback=move || view! { <p class="loading">{tr(i18n, |l| td_string!(l, settings.account.loading))}</p> }>
            {move || Suspend::new(async move {
                let me = me.await.ok()?;
                let admin = me.is_admin();
                let account = me.account.clone();
                let edition = account.edition;
                Some(view! {
                    <section class="card">
                        <dl class="details">
                            <dt>{tr(i18n, |l| td_string!(l, settings.account.name))}</dt>
                            <dd>{account.name.clone()}</dd>
                            <dt>{tr(i18n, |l| td_string!(l, settings.account.id))}</dt>
                            <dd class="mono">{account.account_no.clone()}</dd>
                            <dt>{tr(i18n, |l| td_string!(l, settings.account.edition))}</dt>
                            <dd data-testid="current-edition">{move || edition.label_in(i18n.get_locale())}</dd>
                        </dl>
                        <p class="muted" data-testid="edition-note">
                            {tr(i18n, |l| td_string!(l, settings.account.edition_note))}
                        </p>
                    </section>
                    <TimeZoneCard admin settings=zone_settings/>
                    <LanguageCard admin settings=zone_settings/>
                })
            })}
        </Transition>
    }
}

/// A card's save: field errors beside the fields, the form's own message, and a toast in the
/// reader's language on success. Returns the form's message.
fn on_saved(
    value: impl Fn() -> Option<Result<(), AppError>> + 'static,
    errors: FormErrors,
    saved: Label,
) -> RwSignal<Option<String>> {
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    let i18n = use_i18n();
    Effect::new(move |_| {
        if let Some(result) = value() {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success(saved(i18n.get_locale_untracked()));
            }
        }
    });
    form_error
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
    let form_error = on_saved(move || action.value().get(), errors, |l| td_string!(l, settings.account.time_zone_saved));
    let i18n = use_i18n();
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, settings.account.time_zone))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, settings.account.time_zone_help))}</p>
            <Loaded resource=settings loading=td_string!(i18n.get_locale_untracked(), settings.account.loading) render=move |s: EmailSettings| view! {
                <ActionForm action=action attr:class="inline-form">
                    <Field label=td_string!(i18n.get_locale_untracked(), settings.account.time_zone) name="time_zone" error=errors.message("time_zone")>
                        <input id="time_zone" name="time_zone" type="text" list="zones" value=s.time_zone.clone() disabled=!admin autocomplete="off"/>
                    </Field>
                    <datalist id="zones">
                        {ZONE_SUGGESTIONS.iter().map(|z| view! { <option value=*z></option> }).collect_view()}
                    </datalist>
                    <button class="btn btn-primary" type="submit" disabled=!admin>{tr(i18n, |l| td_string!(l, settings.account.save_time_zone))}</button>
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
    let form_error = on_saved(move || action.value().get(), errors, |l| td_string!(l, settings.account.language_saved));
    let i18n = use_i18n();
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, settings.account.report_language))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, settings.account.report_language_help))}</p>
            <Loaded resource=settings loading=td_string!(i18n.get_locale_untracked(), settings.account.loading) render=move |s: EmailSettings| view! {
                <ActionForm action=action attr:class="inline-form">
                    <Field label=td_string!(i18n.get_locale_untracked(), settings.account.language) name="language" error=errors.message("language")>
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
                    <button class="btn btn-primary" type="submit" disabled=!admin>{tr(i18n, |l| td_string!(l, settings.account.save_language))}</button>
                </ActionForm>
                <FormError message=form_error/>
            }/>
        </section>
    }
}
