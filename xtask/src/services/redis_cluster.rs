//! `redis-cluster`: a Redis Cluster of three masters, no replicas.

use std::{net::TcpListener, time::Duration};

use super::{
    Running, Service, free_listener,
    redis::{self, REDIS_CLI, REDIS_SERVER},
};
use crate::{
    cmd::Cmd,
    error::{Result, bail},
};

pub(super) const SERVICE: Service = Service {
    name: "redis-cluster",
    needed_by: &[
        "crates/nopassword-store",
        "examples/axum-demo",
        "examples/actix-demo",
        "examples/demo-common",
    ],
    exports: &["NOPASSWORD_TEST_REDIS_CLUSTER_URLS"],
    needs: &[REDIS_SERVER, REDIS_CLI],
    start,
};

const NODES: usize = 3;
/// Redis Cluster's bus listens on the client port plus this.
const BUS_OFFSET: u16 = 10_000;

fn start() -> Result<Running> {
    let ports = cluster_ports(NODES)?;
    let mut nodes = Vec::new();
    for &port in &ports {
        let config = format!("nodes-{port}.conf");
        nodes.push(redis::start_node(
            port,
            &[
                "--cluster-enabled".to_owned(),
                "yes".to_owned(),
                "--cluster-config-file".to_owned(),
                config,
            ],
        )?);
    }
    Cmd::new(REDIS_CLI.path()?)
        .arg("--cluster")
        .arg("create")
        .args(ports.iter().map(|port| format!("127.0.0.1:{port}")))
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .read()?;
    nodes[0].wait_until(
        "cluster_state:ok on every node",
        Duration::from_secs(30),
        || {
            for port in &ports {
                let info = redis::command(*port, "CLUSTER INFO")?;
                let ok = info.contains("cluster_state:ok")
                    && info.contains(&format!("cluster_known_nodes:{NODES}"));
                if !ok {
                    return Err(format!("node {port}: {}", info.replace("\r\n", " ")));
                }
            }
            Ok(())
        },
    )?;
    let urls: Vec<String> = ports
        .iter()
        .map(|port| format!("redis://127.0.0.1:{port}/"))
        .collect();
    Ok(Running::new(
        "redis-cluster",
        vec![("NOPASSWORD_TEST_REDIS_CLUSTER_URLS", urls.join(","))],
        nodes,
    ))
}

/// `count` client ports whose bus ports (port + 10000) are free as well. Every port is held
/// until all are chosen, so they are all distinct.
pub(super) fn cluster_ports(count: usize) -> Result<Vec<u16>> {
    let mut held: Vec<TcpListener> = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..200 {
        let listener = free_listener()?;
        let port = listener.local_addr()?.port();
        let Some(bus) = port.checked_add(BUS_OFFSET) else {
            continue;
        };
        if let Ok(bus_listener) = TcpListener::bind(("127.0.0.1", bus)) {
            ports.push(port);
            held.push(listener);
            held.push(bus_listener);
            if ports.len() == count {
                return Ok(ports);
            }
        }
    }
    bail!("found no {count} free ports P with P+{BUS_OFFSET} free too, in 200 tries")
}
