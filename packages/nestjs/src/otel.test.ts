import { join } from 'node:path';
import { otelScenario } from '../../../tools/test-support/otel-scenario';

otelScenario('nestjs (express)', join(__dirname, '__tests__/otel-app.ts'), { decorators: true });
otelScenario('nestjs (fastify)', join(__dirname, '__tests__/otel-app-fastify.ts'), { decorators: true });
