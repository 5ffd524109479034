//! The feature gate: an upgrade page when the edition lacks a feature, and the one-time
//! "Authorize Bulwark to access …" step for features that reach other services.

use leptos::prelude::*;

use super::api::GrantAuthorization;
use super::context::{use_me, MeRefresh};
use crate::editions::Feature;

/// Children render only once the account may use the feature. Pages create their resources
/// before the gate, never inside it, so hydration sees them in the same order as the server.
#[component]
pub fn FeatureGate(feature: Feature, children: ChildrenFn) -> impl IntoView {
    let me = use_me();
    let grant = ServerAction::<GrantAuthorization>::new();
    let refresh = expect_context::<MeRefresh>();
    Effect::new(move |_| {
        if let Some(Ok(())) = grant.value().get() {
            refresh.bump();
        }
    });
    let children = StoredValue::new(children);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = me.await.ok()?;
                let edition = feature.required_edition();
                if !me.allows(feature) {
                    return Some(
                        view! {
                            <section class="upgrade" data-testid="upgrade">
                                <h2>{format!("Upgrade to {} to use {}", edition.label(), feature.label())}</h2>
                                <p>
                                    {format!(
                                        "Your account is on the {} edition. {} is part of the {} edition.",
                                        me.account.edition.label(),
                                        feature.label(),
                                        edition.label(),
                                    )}
                                </p>
                                <p class="muted">"Your console operator sets the edition."</p>
                            </section>
                        }
                        .into_any(),
                    );
                }
                if let Some(service) = feature.authorization() {
                    if !me.has_authorized(service) {
                        return Some(
                            view! {
                                <section class="upgrade" data-testid="authorize">
                                    <h2>{format!("Authorize Bulwark to access {}", service.label())}</h2>
                                    <p>
                                        {format!(
                                            "{} works with {}. Authorize it once for this account; an admin can revoke it in Settings › Authorizations.",
                                            feature.label(),
                                            service.label(),
                                        )}
                                    </p>
                                    {if me.is_admin() {
                                        view! {
                                            <ActionForm action=grant>
                                                <input type="hidden" name="service" value=service.as_str()/>
                                                <button class="btn btn-primary" type="submit">"Authorize"</button>
                                            </ActionForm>
                                        }
                                            .into_any()
                                    } else {
                                        view! { <p class="muted">"Ask an admin of your account to authorize it."</p> }.into_any()
                                    }}
                                </section>
                            }
                            .into_any(),
                        );
                    }
                }
                Some(children.with_value(|c| c()).into_any())
            })}
        </Transition>
    }
}
