import { DynamicModule, Global, Module } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { CryptoIds, Ids } from '../shared/ids';
import { Random } from '../shared/random';
import { AppConfig } from './app-config';

/** Provides the validated configuration, the clock, randomness and ids to every module. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(
    config: AppConfig,
    clock: Clock,
    random: Random,
    ids: Ids = new CryptoIds(),
  ): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
        { provide: Random, useValue: random },
        { provide: Ids, useValue: ids },
      ],
      exports: [AppConfig, Clock, Random, Ids],
    };
  }
}
