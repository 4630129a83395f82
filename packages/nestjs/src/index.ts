/** @purposekit/nestjs — NestJS module, decorators, guard and service (Express and Fastify platforms). */
export { PrivacyModule, PRIVACY_MODULE_OPTIONS } from './privacy.module';
export type { PrivacyModuleExtras } from './privacy.module';
export { Purpose } from './purpose.decorator';
export { AgeGate } from './age-gate.decorator';
export { Accesses } from './accesses.decorator';
export { PrivacyGuard } from './privacy.guard';
export { PrivacyRouteRegistry } from './route-registry';
export { PrivacyExceptionFilter } from './privacy-exception.filter';
export { PrivacyService } from './privacy.service';
export type { PrivacyModuleOptions, AccessesOptions, CompiledRoute, PrivacyGuardRequest } from './types';
// data-subject rights endpoints (issue 8): the core's createRightsHandler as a Nest module
export { PrivacyRightsModule } from './rights.module';
export type { PrivacyRightsModuleOptions, PrivacyRightsModuleAsyncOptions } from './rights.module';
