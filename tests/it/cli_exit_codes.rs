//! Exit codes through the binary: 0 success, 1 any error (usage errors included), 2 only for
//! `plan --detailed-exitcode` with changes.

use crate::support::cli::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_usage_error_exits_1_not_2() {
    let out = run_offline(&["plan", "--detailed-exitcode", "--output", "markdwn"]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("markdwn"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_flag_or_command_exits_1() {
    run_offline(&["plan", "--no-such-flag"])
        .await
        .expect_code(1);
    run_offline(&["no-such-command"]).await.expect_code(1);
    run_offline(&[]).await.expect_code(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn help_and_version_exit_0() {
    for args in [
        &["--help"][..],
        &["plan", "--help"],
        &["--version"],
        &["help"],
    ] {
        let out = run_offline(args).await;
        out.expect_code(0);
        assert!(!out.stdout.is_empty(), "{args:?} printed nothing");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_top_level_help_states_every_exit_code() {
    let out = run_offline(&["--help"]).await;
    out.expect_code(0);
    for line in [
        "0  success",
        "1  an error of any kind: a usage error",
        "2  only with plan --detailed-exitcode",
    ] {
        assert!(
            out.stdout.contains(line),
            "{line:?} missing:\n{}",
            out.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_detailed_exitcode_is_2_with_changes_and_0_without() {
    let w = World::demo_examples().await;
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(2);
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);
}
