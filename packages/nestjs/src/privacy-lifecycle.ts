import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { RESOLVED_PRIVACY_OPTIONS } from './internal-types';
import type { ResolvedPrivacyModuleOptions } from './internal-types';

/**
 * Closes the engine (its audit sink, with a final signed checkpoint, and its consent
 * store) when the application shuts down: on `app.close()`, and on SIGTERM/SIGINT once
 * `app.enableShutdownHooks()` is called. `kit.close()` is idempotent, so an app that also
 * closes the engine itself loses nothing.
 * @internal
 */
@Injectable()
export class PrivacyLifecycle implements OnApplicationShutdown {
  constructor(@Inject(RESOLVED_PRIVACY_OPTIONS) private readonly options: ResolvedPrivacyModuleOptions) {}

  async onApplicationShutdown(): Promise<void> {
    await this.options.kit.close();
  }
}
