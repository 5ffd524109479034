//! Errors of a page's data, shown in place of the page body.

use leptos::prelude::*;

use crate::error::AppError;
use crate::locale::use_i18n;

#[component]
pub fn ErrorList(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="notice notice-error" role="alert">
            {move || {
                errors
                    .get()
                    .into_iter()
                    .map(|(_, e)| {
                        let message = e
                            .downcast_ref::<AppError>()
                            .map(|e| e.message_in(i18n.get_locale()))
                            .unwrap_or_else(|| e.to_string());
                        view! { <p>{message}</p> }
                    })
                    .collect_view()
            }}
        </div>
    }
}
