//! The README's web-tier example, end to end: one apply of
//! deploy/examples/web-tier.yaml, everything Ready, DNS answering with the
//! floating IPs, and deleting the namespace leaves the cloud exactly as it was.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use support::*;

#[tokio::test]
async fn web_tier_converges_resolves_and_leaves_no_trace() {
    let mut env = Env::without_controller("webtier").await;
    let before = inventory(&env.cloud).await;
    let zone = format!("{}.terrane.test.", unique("web"));
    let (client, ns) = (env.ns.client.clone(), env.ns.name.clone());
    let started = Instant::now();
    env.start_controller(&[]);
    let objects = apply_example(&env, "web-tier.yaml", Some(&zone)).await;
    assert_eq!(objects.len(), 18, "the example declares 18 objects");
    wait_all_ready(&env, &objects, 240).await;
    let converged = started.elapsed();
    let metrics = env.controller_metrics().await;

    // 3. DNS answers with both floating IPs, and with web-1's own address.
    let mut fips = BTreeSet::new();
    for name in ["web-1", "web-2"] {
        let o = terrane_api(&client, &ns, "FloatingIP").get(name).await.expect("fip");
        fips.insert(o.data["status"]["resource"]["floatingIpAddress"].as_str().expect("address").to_string());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while dig(&format!("www.{zone}")) != fips
        || dig(&format!("web-1.{zone}")) != BTreeSet::from(["10.0.2.11".to_string()])
    {
        assert!(
            Instant::now() < deadline,
            "3. www answers {fips:?} and web-1 answers 10.0.2.11: {:?} {:?}",
            dig(&format!("www.{zone}")),
            dig(&format!("web-1.{zone}"))
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let during = inventory(&env.cloud).await;
    let made: Vec<&String> = during.difference(&before).collect();
    let (requests, reconciles) = metrics.as_ref().map(|m| (m.requests, m.reconciles)).unwrap_or_default();
    println!(
        "web tier: {} objects Ready in {:.1}s; {} cloud objects made; {requests} cloud requests, {reconciles} reconciles",
        objects.len(),
        converged.as_secs_f64(),
        made.len()
    );
    assert!(requests > 0 && requests < 300, "the controller's cloud requests are bounded: {requests}");
    assert!(made.iter().filter(|m| m.starts_with("servers/")).count() == 2, "4. two servers: {made:?}");

    // 5. Deleting the namespace deletes every cloud object it made, and nothing else.
    println!("web tier: namespace deleted in {:.1}s", delete_namespace(&env, 240).await.as_secs_f64());
    let after = inventory(&env.cloud).await;
    assert_eq!(
        after,
        before,
        "6. the cloud is exactly as before: left over {:?}, lost {:?}",
        after.difference(&before).collect::<Vec<_>>(),
        before.difference(&after).collect::<Vec<_>>()
    );
    assert!(dig(&format!("www.{zone}")).is_empty(), "7. the name no longer resolves");
}
