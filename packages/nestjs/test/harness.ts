import 'reflect-metadata';
import type { DynamicModule, INestApplication, Provider, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';


/** A small array-backed audit sink for tests. */

export type Platform = 'express' | 'fastify';
export const PLATFORMS: readonly Platform[] = ['express', 'fastify'];

export interface AppSpec {
  imports: Array<DynamicModule | Type<unknown>>;
  controllers?: Type<unknown>[];
  providers?: Provider[];
  /** Express `trust proxy` / Fastify `trustProxy`. */
  trustProxy?: boolean | string | number;
}

/** Builds the Nest app on the platform's adapter, without listening. */
export async function createApp(platform: Platform, spec: AppSpec): Promise<INestApplication> {
  @Module({ imports: spec.imports, controllers: spec.controllers ?? [], providers: spec.providers ?? [] })
  class TestModule {}
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(spec.trustProxy === undefined ? {} : { trustProxy: spec.trustProxy as never });
  const app = await NestFactory.create<INestApplication>(TestModule, adapter, { logger: false, abortOnError: false });
  if (platform === 'express' && spec.trustProxy !== undefined) (app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void }).set('trust proxy', spec.trustProxy);
  return app;
}

const open: INestApplication[] = [];

/** Starts the app over real HTTP on port 0. Closed by {@link closeApps}. */
export async function listenApp(platform: Platform, spec: AppSpec): Promise<{ base: string; app: INestApplication }> {
  const app = await createApp(platform, spec);
  open.push(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { base: `http://127.0.0.1:${address.port}`, app };
}

/** Starts the app over real HTTP on port 0 and returns its base URL. Closed by {@link closeApps}. */
export async function startApp(platform: Platform, spec: AppSpec): Promise<string> {
  return (await listenApp(platform, spec)).base;
}

export async function closeApps(): Promise<void> {
  await Promise.all(open.splice(0).map((a) => a.close()));
}

export const json = async (res: Response): Promise<any> => res.json();
