use super::*;

fn outcome(exit_code: Option<i32>, error: Option<&str>, timed_out: bool, simulated: bool) -> FixOutcome {
    FixOutcome {
        command: vec!["apt-get".into()],
        exit_code,
        output: String::new(),
        timed_out,
        simulated,
        changes: Vec::new(),
        error: error.map(str::to_string),
    }
}

#[test]
fn outcomes_are_judged_by_kind() {
    assert_eq!(judge(&outcome(Some(0), None, false, true)), (FixJobStatus::Simulated, None));
    assert_eq!(judge(&outcome(Some(0), None, false, false)), (FixJobStatus::Succeeded, None));
    assert_eq!(
        judge(&outcome(Some(100), Some("apt-get exited with 100: E: Could not get lock"), false, false)),
        (FixJobStatus::Failed, Some("non-zero exit: apt-get exited with 100: E: Could not get lock".into()))
    );
    assert_eq!(
        judge(&outcome(Some(1), None, false, true)),
        (FixJobStatus::Failed, Some("non-zero exit: the package manager exited with 1".into()))
    );
    assert_eq!(
        judge(&outcome(None, Some("apt-get did not finish within 900s and was killed"), true, false)).1.as_deref(),
        Some("timeout: apt-get did not finish within 900s and was killed")
    );
    assert_eq!(judge(&outcome(None, Some("cannot run yum: not found"), false, false)).1.as_deref(), Some("cannot run yum: not found"));
}

#[test]
fn enroll_commands_quote_groups_that_need_it() {
    assert_eq!(enroll_command("https://c", "benr_x", Some("Lab")), "bulwark agent --server https://c --token benr_x --group Lab");
    assert_eq!(enroll_command("https://c", "benr_x", Some("Bob's hosts")), "bulwark agent --server https://c --token benr_x --group 'Bob'\\''s hosts'");
    assert_eq!(enroll_command("https://c", "benr_x", None), "bulwark agent --server https://c --token benr_x");
}
