import type { Server } from 'node:http';
import { MaskerError } from '../errors.js';

/**
 * `server.listen(port, host)`, with the errors an operator can fix turned into MASKER_CONFIG (exit 2)
 * naming the address and `setting`, the setting or flag that changes it (e.g. `set METRICS_PORT to a free
 * port`): EADDRINUSE (a second masker on the same port), EACCES (a port below 1024), EADDRNOTAVAIL (an
 * address this machine does not have). Other errors are passed on unchanged.
 */
export function listenOn(server: Server, port: number, host: string, setting: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(listenError(err, port, host, setting));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function listenError(err: NodeJS.ErrnoException, port: number, host: string, setting: string): Error {
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new MaskerError('MASKER_CONFIG', `cannot listen on ${address}: port ${port} is already in use (another masker, or another program); ${setting}`, { cause: err });
    case 'EACCES':
      return new MaskerError('MASKER_CONFIG', `cannot listen on ${address}: permission denied (ports below 1024 need privileges); ${setting}`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new MaskerError('MASKER_CONFIG', `cannot listen on ${address}: this machine has no interface with address ${host}; ${setting}`, { cause: err });
    default:
      return err;
  }
}
