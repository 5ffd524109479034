//! Confirmation for destructive actions: a button asks about one item, a dialog confirms it.

use leptos::prelude::*;

use crate::locale::{td_string, tr, use_i18n};

/// The item a destructive action is asking about (its id and the name shown in the question);
/// the dialog is open exactly while it holds one.
pub type Asking = RwSignal<Option<(i64, String)>>;

/// A danger button that asks about `item` instead of acting at once.
#[component]
pub fn AskButton(asking: Asking, item: (i64, String), label: &'static str) -> impl IntoView {
    view! {
        <button class="btn btn-danger btn-sm" type="button" on:click=move |_| asking.set(Some(item.clone()))>
            {label}
        </button>
    }
}

/// Shown while `asking` holds an item; Confirm runs `on_confirm` with its id, Cancel or Escape
/// close without acting.
#[component]
pub fn ConfirmDialog(
    asking: Asking,
    title: &'static str,
    /// The question, from the item's name.
    question: fn(&str) -> String,
    confirm_label: &'static str,
    on_confirm: Callback<i64>,
) -> impl IntoView {
    let close = move || asking.set(None);
    let i18n = use_i18n();
    view! {
        <Show when=move || asking.with(Option::is_some)>
            <div class="modal-backdrop" on:click=move |_| close()>
                <div
                    class="modal"
                    role="dialog"
                    aria-modal="true"
                    aria-label=title
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            close();
                        }
                    }
                >
                    <div class="modal-header">
                        <h2>{title}</h2>
                    </div>
                    <div class="modal-body">
                        <p>{move || asking.with(|a| a.as_ref().map(|(_, name)| question(name)).unwrap_or_default())}</p>
                    </div>
                    <div class="modal-footer">
                        <button class="btn" type="button" on:click=move |_| close()>{tr(i18n, |l| td_string!(l, assets.ui.cancel))}</button>
                        <button
                            class="btn btn-danger"
                            type="button"
                            autofocus
                            on:click=move |_| {
                                if let Some((id, _)) = asking.get_untracked() {
                                    on_confirm.run(id);
                                }
                                close();
                            }
                        >
                            {confirm_label}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
