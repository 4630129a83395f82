import 'reflect-metadata';
import { Controller, Get } from '@nestjs/common';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { PrivacyModule } from './index';
import { closeApps, createApp } from '../test/harness';

@Controller()
class RootController {
  @Get()
  root(): string {
    return 'ok';
  }
}

afterEach(closeApps);

describe('PrivacyModule.forRootAsync: a factory returning the wrong shape', () => {
  const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k', secret: 'x'.repeat(32) } });
  it.each([
    ['the engine itself', () => kit, 'got the engine itself; the options are { kit, onWarning?, skip? }: forRoot({ kit }), or return { kit } from forRootAsync\'s useFactory.'],
    ['undefined (a factory that forgot to return)', () => undefined, 'what forRootAsync\'s useFactory returned) must be an object { kit, onWarning?, skip? }, got undefined.'],
    ['an object without kit', () => ({ engine: kit }), 'The options (or what useFactory returned) had the keys "engine"; return { kit } with the engine.'],
  ])('%s: the start-up error says what to return', async (_n, factory, message) => {
    await expect(createApp('express', { imports: [PrivacyModule.forRootAsync({ useFactory: async () => factory() as never })], controllers: [RootController] })).rejects.toMatchObject({
      code: 'PURPOSEKIT_ERR_INVALID_OPTION',
      message: expect.stringContaining(message),
    });
  });
});
