import { join } from 'node:path';
import { otelScenario } from '../../../tools/test-support/otel-scenario';

otelScenario('koa', join(__dirname, '__tests__/otel-app.ts'));
