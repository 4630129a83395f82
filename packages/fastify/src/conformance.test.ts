import Fastify from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { runConformanceSuite } from '@purposekit/testing';
import type { AdapterHarness } from '@purposekit/testing';
import { createRightsRouter, purposekit } from './index';

const harness: AdapterHarness = {
  async start(spec) {
    const app = Fastify(spec.trustProxy === 'loopback' ? { trustProxy: '127.0.0.1' } : {});
    try {
      // The app's request logger: Fastify's onResponse hook, where request.body is the real one.
      app.addHook('onResponse', (request, reply, done) => {
        spec.logRequest(request.privacy, reply.statusCode, request.body);
        done();
      });
      await app.register(purposekit, { kit: spec.kit, onWarning: spec.onWarning, onServerError: spec.onServerError });
      if (spec.mountTwice) await app.register(purposekit, { kit: spec.kit, onWarning: spec.onWarning, onServerError: spec.onServerError });
      const rights = spec.rights;
      if (rights !== undefined) await app.register(createRightsRouter(spec.kit, { ...rights.options, getSubject: (request) => rights.subjectFrom(request.headers) }));
      for (const r of spec.routes) {
        const config = { ...(r.purpose !== undefined ? { purpose: r.purpose } : {}), ...(r.ageGate !== undefined ? { ageGate: r.ageGate } : {}) };
        // Errors thrown here travel Fastify's own error channel.
        const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
          const { status, body } = await r.handle({ privacy: request.privacy, body: request.body, url: request.url });
          reply.code(status);
          return body;
        };
        app.route({ method: r.method, url: r.path, config, handler });
      }
      await app.listen({ port: 0, host: '127.0.0.1' });
    } catch (error) {
      await app.close().catch(() => undefined);
      throw error;
    }
    return {
      baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      close: () => app.close(),
    };
  },
};

runConformanceSuite('fastify', harness);
