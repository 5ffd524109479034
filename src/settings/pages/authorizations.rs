//! The Authorizations tab: granting or revoking the features that reach other services.

use leptos::prelude::*;

use crate::auth::api::{GrantAuthorization, RevokeAuthorization};
use crate::auth::context::use_me;
use super::on_done;
use crate::components::tabs::SettingsTabs;
use crate::components::toggle::Toggle;
use crate::editions::Service;
use crate::locale::{fill, td_string, tr, use_i18n};

#[component]
pub fn AuthorizationSettingsPage() -> impl IntoView {
    let me = use_me();
    let grant = ServerAction::<GrantAuthorization>::new();
    let revoke = ServerAction::<RevokeAuthorization>::new();
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    on_done(move || grant.value().get(), td_string!(locale, settings.authorizations.granted), true);
    on_done(move || revoke.value().get(), td_string!(locale, settings.authorizations.revoked), true);
    view! {
        <SettingsTabs current="/settings/authorizations"/>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, settings.authorizations.title))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, settings.authorizations.note))}</p>
            <Transition fallback=move || view! { <p class="loading">{tr(i18n, |l| td_string!(l, settings.loading))}</p> }>
                {move || Suspend::new(async move {
                    let me = me.await.ok()?;
                    Some(view! {
                        <div class="table-wrap">
                            <table class="table" data-testid="authorization-table">
                                <thead><tr>
                                    <th>{tr(i18n, |l| td_string!(l, settings.authorizations.feature))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, settings.authorizations.access))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, settings.authorizations.status))}</th>
                                    <th></th>
                                </tr></thead>
                                <tbody>
                                    {Service::ALL.iter().map(|s| {
                                        let service = *s;
                                        let feature = s.feature();
                                        let granted = me.has_authorized(*s);
                                        let allowed = me.allows(s.feature());
                                        view! {
                                            <tr>
                                                <td>{move || feature.label_in(i18n.get_locale())}</td>
                                                <td>{move || service.label_in(i18n.get_locale())}</td>
                                                <td>{move || {
                                                    let locale = i18n.get_locale();
                                                    if granted {
                                                        td_string!(locale, settings.authorizations.authorized)
                                                    } else if allowed {
                                                        td_string!(locale, settings.authorizations.not_authorized)
                                                    } else {
                                                        td_string!(locale, settings.authorizations.needs_edition)
                                                    }
                                                }}</td>
                                                <td class="right">
                                                    <Toggle
                                                        checked=granted
                                                        label=fill(
                                                            td_string!(i18n.get_locale_untracked(), settings.authorizations.authorize),
                                                            &[("feature", feature.label_in(i18n.get_locale_untracked()))],
                                                        )
                                                        disabled=!(me.is_admin() && allowed)
                                                        on_change=Callback::new({
                                                            let service = s.as_str().to_string();
                                                            move |on: bool| {
                                                                if on {
                                                                    grant.dispatch(GrantAuthorization { service: service.clone() });
                                                                } else {
                                                                    revoke.dispatch(RevokeAuthorization { service: service.clone() });
                                                                }
                                                            }
                                                        })
                                                    />
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })
                })}
            </Transition>
        </section>
    }
}
