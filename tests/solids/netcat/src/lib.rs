//! A solid that opens a socket. Its component imports `wasi:sockets`, so the host must
//! refuse to load it.

use weft_guest::{Failure, solid};

/// Connects to a host and port.
#[solid]
fn netcat(address: String) -> Result<String, Failure> {
    let stream = std::net::TcpStream::connect(address.as_str())?;
    Ok(format!("connected to {:?}", stream.peer_addr()?))
}
