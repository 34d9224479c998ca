//! `redis-failover`: a Redis Cluster of three masters with one replica each, for the failover
//! test, which kills a master. Separate from `redis-cluster` (three masters, no replicas), which
//! the other suites share and nobody kills.

use std::time::Duration;

use super::{
    Running, Service,
    redis::{self, REDIS_CLI, REDIS_SERVER},
    redis_cluster::cluster_ports,
};
use crate::{cmd::Cmd, error::Result};

pub(super) const SERVICE: Service = Service {
    name: "redis-failover",
    needed_by: &["crates/nopassword-store"],
    exports: &[
        "NOPASSWORD_TEST_REDIS_FAILOVER_URLS",
        "NOPASSWORD_TEST_REDIS_FAILOVER_NODE_TIMEOUT_MS",
    ],
    needs: &[REDIS_SERVER, REDIS_CLI],
    start,
};

const MASTERS: usize = 3;
const NODES: usize = 2 * MASTERS;
/// `cluster-node-timeout`: how long a master may be unreachable before its replica takes over.
/// The test's budget is this plus 2 s, and Redis adds up to half of it to detect the failure
/// (other masters must agree) and 0.5 to 1 s of election delay: at 2 s the budget had no
/// margin left (a run took 4.16 s), at 1 s it has about half a second. Still far longer than
/// a busy machine keeps a Redis node from answering its pings.
const NODE_TIMEOUT_MS: u64 = 1_000;

fn start() -> Result<Running> {
    let ports = cluster_ports(NODES)?;
    let mut nodes = Vec::new();
    for &port in &ports {
        nodes.push(redis::start_node(
            port,
            &[
                "--cluster-enabled".to_owned(),
                "yes".to_owned(),
                "--cluster-config-file".to_owned(),
                format!("nodes-{port}.conf"),
                "--cluster-node-timeout".to_owned(),
                NODE_TIMEOUT_MS.to_string(),
                // A replica takes over however long it was cut off from its master.
                "--cluster-replica-validity-factor".to_owned(),
                "0".to_owned(),
            ],
        )?);
    }
    Cmd::new(REDIS_CLI.path()?)
        .arg("--cluster")
        .arg("create")
        .args(ports.iter().map(|port| format!("127.0.0.1:{port}")))
        .args(["--cluster-replicas", "1", "--cluster-yes"])
        .read()?;
    nodes[0].wait_until(
        "cluster_state:ok on every node and every replica in sync",
        Duration::from_secs(60),
        || {
            let mut replicas = 0;
            for port in &ports {
                let info = redis::command(*port, "CLUSTER INFO")?;
                let ok = info.contains("cluster_state:ok")
                    && info.contains(&format!("cluster_known_nodes:{NODES}"));
                if !ok {
                    return Err(format!("node {port}: {}", info.replace("\r\n", " ")));
                }
                let replication = redis::command(*port, "INFO replication")?;
                if replication.contains("role:slave") {
                    if !replication.contains("master_link_status:up") {
                        return Err(format!("replica {port} is not in sync yet"));
                    }
                    replicas += 1;
                }
            }
            if replicas == MASTERS {
                Ok(())
            } else {
                Err(format!("{replicas} of {MASTERS} replicas"))
            }
        },
    )?;
    let urls: Vec<String> = ports
        .iter()
        .map(|port| format!("redis://127.0.0.1:{port}/"))
        .collect();
    Ok(Running::new(
        "redis-failover",
        vec![
            ("NOPASSWORD_TEST_REDIS_FAILOVER_URLS", urls.join(",")),
            (
                "NOPASSWORD_TEST_REDIS_FAILOVER_NODE_TIMEOUT_MS",
                NODE_TIMEOUT_MS.to_string(),
            ),
        ],
        nodes,
    ))
}
