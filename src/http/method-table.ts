import type { FastifyInstance, FastifyRequest } from 'fastify';
import { methodNotAllowed } from './errors.js';

/**
 * Which methods each routed path answers, per custom verb (`upload` of `{datasetId}:upload`), so
 * that a known path asked with another method answers 405 with an Allow header, not 404.
 */
export class MethodTable {
  private readonly paths = new Map<string, { lastParam: string | undefined; byVerb: Map<string, Set<string>> }>();

  add(fastifyPath: string, lastParam: string | undefined, verb: string, method: string): void {
    const entry = this.paths.get(fastifyPath) ?? { lastParam, byVerb: new Map<string, Set<string>>() };
    const methods = entry.byVerb.get(verb) ?? new Set<string>();
    methods.add(method);
    entry.byVerb.set(verb, methods);
    this.paths.set(fastifyPath, entry);
  }

  /** The methods `verb` of `fastifyPath` answers (HEAD wherever GET is: Fastify serves it). */
  allowed(fastifyPath: string, verb: string): string[] {
    const methods = new Set(this.paths.get(fastifyPath)?.byVerb.get(verb) ?? []);
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }

  /** Registers, on every known path, a route for each other method that answers 405. */
  registerMethodNotAllowed(app: FastifyInstance): void {
    for (const [fastifyPath, entry] of this.paths) {
      const declared = new Set([...entry.byVerb.values()].flatMap((methods) => [...methods]));
      if (declared.has('GET')) declared.add('HEAD');
      const others = app.supportedMethods.filter((method) => !declared.has(method));
      if (others.length === 0) continue;
      app.route({
        method: others,
        url: fastifyPath,
        // onRequest runs before the body is read, so no body rule (QUERY's content type) answers first.
        onRequest: async (request) => {
          throw this.refusal(request, fastifyPath, entry.lastParam);
        },
        handler: async () => undefined,
      });
    }
  }

  /** The 405 for a request whose method is not one of its path's (and verb's), else undefined. */
  refusal(request: FastifyRequest, fastifyPath: string, lastParam: string | undefined): Error {
    const value = lastParam === undefined ? '' : ((request.params as Record<string, string>)[lastParam] ?? '');
    const colon = value.indexOf(':');
    const verb = colon >= 0 ? value.slice(colon + 1) : '';
    return methodNotAllowed(request.method, request.url.split('?')[0] ?? '', this.allowed(fastifyPath, verb));
  }
}
