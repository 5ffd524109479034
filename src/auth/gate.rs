//! The feature gate: an upgrade page when the edition lacks a feature, and the one-time
//! "Authorize Bulwark to access …" step for features that reach other services.

use leptos::prelude::*;

use super::api::GrantAuthorization;
use super::context::{use_me, MeRefresh};
use crate::editions::Feature;
use crate::locale::{td_string, use_i18n};

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
    let i18n = use_i18n();
    view! {
        <Transition fallback=move || view! { <p class="loading">{td_string!(i18n.get_locale_untracked(), common.gate.loading)}</p> }>
            {move || Suspend::new(async move {
                let me = me.await.ok()?;
                let edition = feature.required_edition();
                // The gate renders once per load; a language switch shows on the next one.
                let l = i18n.get_locale_untracked();
                if !me.allows(feature) {
                    return Some(
                        view! {
                            <section class="upgrade" data-testid="upgrade">
                                <h2>{td_string!(l, common.gate.upgrade_title, edition = edition.label_in(l), feature = feature.label_in(l))}</h2>
                                <p>
                                    {td_string!(
                                        l,
                                        common.gate.upgrade_body,
                                        current = me.account.edition.label_in(l),
                                        feature = feature.label_in(l),
                                        edition = edition.label_in(l)
                                    )}
                                </p>
                                <p class="muted">{td_string!(l, common.gate.operator)}</p>
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
                                    <h2>{td_string!(l, common.gate.authorize_title, service = service.label_in(l))}</h2>
                                    <p>
                                        {td_string!(l, common.gate.authorize_body, feature = feature.label_in(l), service = service.label_in(l))}
                                    </p>
                                    {if me.is_admin() {
                                        view! {
                                            <ActionForm action=grant>
                                                <input type="hidden" name="service" value=service.as_str()/>
                                                <button class="btn btn-primary" type="submit">{td_string!(l, common.gate.authorize)}</button>
                                            </ActionForm>
                                        }
                                            .into_any()
                                    } else {
                                        view! { <p class="muted">{td_string!(l, common.gate.ask_admin)}</p> }.into_any()
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
