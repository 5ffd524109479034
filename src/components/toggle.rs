//! An on/off switch.

use leptos::prelude::*;

#[component]
pub fn Toggle(
    #[prop(into)] checked: Signal<bool>,
    /// What the switch turns on, for screen readers and tests.
    label: String,
    on_change: Callback<bool>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <label class="toggle">
            <input
                type="checkbox"
                role="switch"
                aria-label=label
                prop:checked=move || checked.get()
                checked=checked.get_untracked()
                disabled=move || disabled.get()
                on:change=move |ev| on_change.run(event_target_checked(&ev))
            />
            <span class="slider"></span>
        </label>
    }
}
