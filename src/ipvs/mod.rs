//! The IPVS model (services and destinations) and its generic-netlink codec. Configuration
//! of virtual and real servers is parsed by `config`; the runtime arrives with a later issue.
