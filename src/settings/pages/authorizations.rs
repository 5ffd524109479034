//! The Authorizations tab: granting or revoking the features that reach other services.

use leptos::prelude::*;

use crate::auth::api::{GrantAuthorization, RevokeAuthorization};
use crate::auth::context::use_me;
use crate::editions::Service;
use crate::components::toggle::Toggle;
use crate::components::tabs::SettingsTabs;
use super::on_done;

#[component]
pub fn AuthorizationSettingsPage() -> impl IntoView {
    let me = use_me();
    let grant = ServerAction::<GrantAuthorization>::new();
    let revoke = ServerAction::<RevokeAuthorization>::new();
    on_done(move || grant.value().get(), "Authorized.", true);
    on_done(move || revoke.value().get(), "Authorization revoked.", true);
    view! {
        <SettingsTabs current="/settings/authorizations"/>
        <section class="card">
            <h2>"Authorizations"</h2>
            <p class="muted">"Features that reach other services ask once for authorization. Revoking it turns the feature off until it is authorized again."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let me = me.await.ok()?;
                    Some(view! {
                        <div class="table-wrap">
                            <table class="table" data-testid="authorization-table">
                                <thead><tr><th>"Feature"</th><th>"Access"</th><th>"Status"</th><th></th></tr></thead>
                                <tbody>
                                    {Service::ALL.iter().map(|s| {
                                        let granted = me.has_authorized(*s);
                                        let allowed = me.allows(s.feature());
                                        view! {
                                            <tr>
                                                <td>{s.feature().label()}</td>
                                                <td>{s.label()}</td>
                                                <td>{if granted { "Authorized" } else if allowed { "Not authorized" } else { "Needs a higher edition" }}</td>
                                                <td class="right">
                                                    <Toggle
                                                        checked=granted
                                                        label=format!("Authorize {}", s.feature().label())
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
