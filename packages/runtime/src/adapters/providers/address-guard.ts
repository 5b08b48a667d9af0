import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { buildConnector } from 'undici';

/**
 * Addresses a tenant-chosen provider URL may not reach: this machine (loopback, unspecified, its
 * own interfaces), private and carrier-grade NAT networks, link-local (cloud metadata services
 * live at 169.254.169.254), multicast and reserved ranges. IPv4-mapped and NAT64 IPv6 addresses
 * are checked as the IPv4 address they carry.
 */
const FORBIDDEN: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/** Thrown (as a connect error) when a tenant URL's host resolves to an address it may not reach. */
export class AddressNotAllowedError extends Error {
  /** Read by `transportError` like a network error code. */
  readonly code = 'AGENTIK_ADDRESS_NOT_ALLOWED';
  constructor() {
    super('the address of this host is not allowed for tenant provider URLs');
    this.name = 'AddressNotAllowedError';
  }
}

/** Thrown when a tenant URL's host name does not resolve. */
export class HostNotFoundError extends Error {
  readonly code = 'ENOTFOUND';
  constructor() {
    super('the host name does not resolve');
    this.name = 'HostNotFoundError';
  }
}

export interface AddressGuardOptions {
  /**
   * Host names, addresses and CIDR ranges the operator allows although they are forbidden
   * otherwise (AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS, lower-case), each optionally with `:port`
   * to allow that port only (IPv6 in brackets then: `[fd00::5]:8000`).
   */
  allowHosts: readonly string[];
  /** More addresses of this runtime (the configured listen address); interfaces are added here. */
  ownAddresses?: readonly string[];
  /** Resolves a host name to all its addresses (tests replace DNS). */
  lookup?: (hostname: string) => Promise<string[]>;
}

/** Decides which addresses tenant provider URLs may reach, and resolves hosts to checked addresses. */
export interface AddressGuard {
  /**
   * Resolves `hostname` (a name or an address literal, IPv6 with or without brackets) and returns
   * the address to connect to. Rejects with {@link AddressNotAllowedError} when any address it
   * resolves to is forbidden and not allowed by the operator, {@link HostNotFoundError} when it
   * does not resolve.
   */
  resolve(hostname: string, port: number): Promise<string>;
}

/** Splits `host[:port]`, `[v6][:port]` or a bare IPv6 address (no port) into its parts. */
function splitPort(entry: string): { host: string; port: number | undefined } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
  if (m) return { host: unbracket(m[1]!), port: Number(m[2]) };
  return { host: unbracket(entry), port: undefined };
}

const unbracket = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

/** The IPv4 address carried by an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

function addRange(list: BlockList, entry: string): boolean {
  const [raw, prefix] = entry.split('/');
  const address = unbracket(raw ?? '');
  const family = isIP(address);
  if (family === 0) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) list.addAddress(address, type);
  else list.addSubnet(address, Number(prefix), type);
  return true;
}

async function systemLookup(hostname: string): Promise<string[]> {
  try {
    return (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    throw new HostNotFoundError();
  }
}

/** Builds the guard from the operator's allow list and this machine's interface addresses. */
export function createAddressGuard(options: AddressGuardOptions): AddressGuard {
  const forbidden = new BlockList();
  for (const [address, prefix, type] of FORBIDDEN) forbidden.addSubnet(address, prefix, type);
  const own = [...(options.ownAddresses ?? []), ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))];
  for (const address of own) addRange(forbidden, address.split('%')[0]!);
  // Allowed ranges and names per port; key 0 stands for "any port".
  const allowedRanges = new Map<number, BlockList>();
  const allowedNames = new Set<string>();
  for (const entry of options.allowHosts) {
    const { host, port = 0 } = splitPort(entry);
    const ranges = allowedRanges.get(port) ?? new BlockList();
    allowedRanges.set(port, ranges);
    if (!addRange(ranges, host)) allowedNames.add(`${host}:${port}`);
  }
  const lookup = options.lookup ?? systemLookup;

  const denied = (address: string, port: number): boolean => {
    const family = isIP(address);
    const forms: Array<[string, 'ipv4' | 'ipv6']> = [[address, family === 4 ? 'ipv4' : 'ipv6']];
    const v4 = family === 6 ? embeddedIpv4(address) : undefined;
    if (v4 !== undefined) forms.push([v4, 'ipv4']);
    if (!forms.some(([a, t]) => forbidden.check(a, t))) return false;
    const lists = [allowedRanges.get(0), allowedRanges.get(port)].filter((l): l is BlockList => l !== undefined);
    return !lists.some((l) => forms.some(([a, t]) => l.check(a, t)));
  };

  return {
    async resolve(hostname, port) {
      const host = unbracket(hostname.toLowerCase());
      const addresses = isIP(host) !== 0 ? [host] : await lookup(host);
      if (addresses.length === 0) throw new HostNotFoundError();
      // A name the operator listed may resolve anywhere; otherwise every address must be allowed,
      // so a name with one public and one private record cannot be used to reach the private one.
      const listed = allowedNames.has(`${host}:0`) || allowedNames.has(`${host}:${port}`);
      if (!listed && addresses.some((a) => denied(a, port))) throw new AddressNotAllowedError();
      return addresses[0]!;
    },
  };
}

/**
 * An undici connector that resolves the host through `guard` and connects to the address it
 * checked (so a DNS answer that changes between check and connect cannot slip through). TLS still
 * verifies the certificate against the host name (SNI from the request's host).
 */
export function guardedConnector(guard: AddressGuard, options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (opts, callback) => {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    guard.resolve(opts.hostname, port).then(
      (address) => connect({ ...opts, hostname: address }, callback),
      (error: Error) => callback(error, null),
    );
  };
}
