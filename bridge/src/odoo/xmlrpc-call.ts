/**
 * One XML-RPC call with the `xmlrpc` package's serializer and deserializer, the answer read whole
 * before it is parsed.
 *
 * The package's own client pipes the socket into its (pure JavaScript) parser, which then sets the
 * pace of reading: an answer of tens of MB (the commit plan of a million records: 33 MB) is read
 * at the parser's speed, about 6 MB/s. Odoo's HTTP workers give up on a client that does not take
 * their answer within 2 s (`ODOO_HTTP_SOCKET_TIMEOUT`) and close the connection: the call failed
 * with ECONNRESET after Odoo had done the work (issue #11, the million run). Read at the network's
 * speed, then parsed, the same answer arrives whole.
 */
import { request as httpRequest, type Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import Deserializer from 'xmlrpc/lib/deserializer.js';
import { serializeMethodCall } from 'xmlrpc/lib/serializer.js';

export interface XmlRpcEndpoint {
  host: string;
  port: number;
  path: string;
  secure: boolean;
  agent: HttpAgent | HttpsAgent;
}

/** `method(params)` at `endpoint`: the value, or the fault / network error as the callback's error. */
export function xmlRpcCall(
  endpoint: XmlRpcEndpoint,
  method: string,
  params: unknown[],
  callback: (err: unknown, value?: unknown) => void,
): void {
  const xml = serializeMethodCall(method, params);
  let done = false;
  const finish = (err: unknown, value?: unknown) => {
    if (done) return;
    done = true;
    callback(err, value);
  };
  const send = endpoint.secure ? httpsRequest : httpRequest;
  const request = send(
    {
      host: endpoint.host,
      port: endpoint.port,
      path: endpoint.path,
      method: 'POST',
      agent: endpoint.agent,
      headers: {
        'User-Agent': 'crm-migration bridge',
        'Content-Type': 'text/xml',
        Accept: 'text/xml',
        'Content-Length': Buffer.byteLength(xml, 'utf8'),
      },
    },
    (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', finish);
      response.on('close', () => {
        if (!response.complete)
          finish(Object.assign(new Error('the connection closed before the answer was whole'), { code: 'ECONNRESET' }));
      });
      response.on('end', () => {
        if (response.statusCode === 404) return finish(new Error('Not Found'));
        new Deserializer('utf8').deserializeMethodResponse(Readable.from([Buffer.concat(chunks)]), finish);
      });
    },
  );
  request.on('error', finish);
  request.end(xml, 'utf8');
}
