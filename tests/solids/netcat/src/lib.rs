//! A solid that tries the network every way Rust's std offers. Its component imports
//! `wasi:sockets`; the host links them with a WASI context that denies every address and
//! name lookup, so each attempt must fail.

use weft_guest::{Failure, solid};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    /// `ip:port` of a listener to reach.
    address: String,
}

/// Connects over TCP, sends over UDP and looks up a name; reports each outcome.
#[solid(config = Config)]
fn netcat(config: Config) -> Result<String, Failure> {
    let tcp = match std::net::TcpStream::connect(config.address.as_str()) {
        Ok(stream) => format!("connected to {:?}", stream.peer_addr()?),
        Err(e) => format!("refused ({})", e.kind()),
    };
    let udp = match std::net::UdpSocket::bind("0.0.0.0:0").and_then(|s| s.send_to(b"hi", config.address.as_str())) {
        Ok(n) => format!("sent {n} bytes"),
        Err(e) => format!("refused ({})", e.kind()),
    };
    let lookup = match std::net::ToSocketAddrs::to_socket_addrs("localhost:80") {
        Ok(found) => format!("resolved {:?}", found.collect::<Vec<_>>()),
        Err(e) => format!("refused ({})", e.kind()),
    };
    Ok(format!("tcp: {tcp}; udp: {udp}; lookup: {lookup}"))
}
