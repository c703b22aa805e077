import { DynamicModule, Global, Module } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { Random } from '../shared/random';
import { AppConfig } from './app-config';

/** Provides the validated configuration, the clock and randomness to every module. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, clock: Clock, random: Random): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
        { provide: Random, useValue: random },
      ],
      exports: [AppConfig, Clock, Random],
    };
  }
}
