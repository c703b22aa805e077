import { DynamicModule, Global, Module } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { AppConfig } from './app-config';

/** Provides the validated configuration and the clock to every module. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, clock: Clock): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
      ],
      exports: [AppConfig, Clock],
    };
  }
}
