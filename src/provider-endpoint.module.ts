import {
  DynamicModule,
  Global,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ProviderEndpoint } from './provider/provider-endpoint';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from './provider-simulator/provider-simulator';
import type { ProviderSimulatorConfig } from './provider-simulator/provider-simulator.config';

/** With no PROVIDER_URL, the service runs the provider simulator on its own port. */
@Injectable()
export class BuiltInSimulator implements OnApplicationShutdown {
  private readonly logger = new Logger('ProviderSimulator');
  private running: RunningProviderSimulator | null = null;

  async start(config: ProviderSimulatorConfig): Promise<string> {
    this.running = await startProviderSimulator({
      ...config.options,
      port: config.port,
      host: config.host,
    });
    this.logger.log(
      { url: this.running.url, timeScale: config.options.timeScale },
      'no PROVIDER_URL configured: started the built-in provider simulator',
    );
    return this.running.url;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }
}

/** The provider the service talks to: a configured URL, or the built-in simulator it starts. */
export type ProviderChoice = { url: string } | { simulator: ProviderSimulatorConfig };

/** Part of the composition root: the provider feature only sees the endpoint it is given. */
@Global()
@Module({})
export class ProviderEndpointModule {
  static forRoot(choice: ProviderChoice): DynamicModule {
    return {
      module: ProviderEndpointModule,
      providers: [
        BuiltInSimulator,
        {
          provide: ProviderEndpoint,
          inject: [BuiltInSimulator],
          useFactory: async (simulator: BuiltInSimulator): Promise<ProviderEndpoint> => ({
            baseUrl: 'url' in choice ? choice.url : await simulator.start(choice.simulator),
          }),
        },
      ],
      exports: [ProviderEndpoint],
    };
  }
}
