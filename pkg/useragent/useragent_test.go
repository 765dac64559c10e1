package useragent

import (
	"strings"
	"testing"
)

// Each user agent below says where it comes from:
//   - "captured": sent by the SDK itself to a local test server, the SDK
//     source file named being the one that builds it;
//   - "quoted": copied from the public page named;
//   - "composed": written in the format the named SDK source file builds,
//     with the versions the test needs.
//
// docs/behaviour.md#sdk-user-agents describes the formats.
var parseCases = []struct {
	name      string
	userAgent string
	want      SDK
}{
	// Go v2.
	{
		// captured: aws-sdk-go-v2 v1.47.7 with service/sts v1.51.8 calling
		// AssumeRoleWithWebIdentity (aws/middleware/user_agent.go).
		name:      "go v2 ua/2.1",
		userAgent: "aws-sdk-go-v2/1.47.7 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sts#1.51.8",
		want:      SDK{ID: "go-v2", Name: "AWS SDK for Go v2", Version: "1.47.7", VersionOf: "github.com/aws/aws-sdk-go-v2 (core module)"},
	},
	{
		// captured: aws-sdk-go-v2 v1.22.2 with service/sts v1.25.1, the
		// core module of release-2023-11-14: "#" already, no ua/ marker yet.
		name:      "go v2 at the pod identity minimum",
		userAgent: "aws-sdk-go-v2/1.22.2 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sts#1.25.1",
		want:      SDK{ID: "go-v2", Name: "AWS SDK for Go v2", Version: "1.22.2", VersionOf: "github.com/aws/aws-sdk-go-v2 (core module)"},
	},
	{
		// captured: aws-sdk-go-v2 v1.17.1 with service/sts v1.17.2 (every
		// metadata value after "/").
		name:      "go v2 v1.17 format",
		userAgent: "aws-sdk-go-v2/1.17.1 os/linux lang/go/1.26.8 md/GOOS/linux md/GOARCH/amd64 api/sts/1.17.2",
		want:      SDK{ID: "go-v2", Name: "AWS SDK for Go v2", Version: "1.17.1", VersionOf: "github.com/aws/aws-sdk-go-v2 (core module)"},
	},
	{
		// quoted: the X-Amz-User-Agent example in the doc comment of
		// NewRequestUserAgent, aws/middleware/user_agent.go (the format
		// before ua/2.0 and "#").
		name:      "go v2 before ua/2.0",
		userAgent: "aws-sdk-go-v2/1.2.3 md/GOOS/linux md/GOARCH/amd64 lang/go/1.15",
		want:      SDK{ID: "go-v2", Name: "AWS SDK for Go v2", Version: "1.2.3", VersionOf: "github.com/aws/aws-sdk-go-v2 (core module)"},
	},
	{
		// composed: Terraform's "APN/1.0 HashiCorp/1.0 Terraform/x" prefix
		// and provider token in front of a Go v2 user agent
		// (aws/middleware/user_agent.go).
		name: "go v2 wrapped by terraform",
		userAgent: "APN/1.0 HashiCorp/1.0 Terraform/1.5.0 (+https://www.terraform.io) terraform-provider-aws/5.31.0 " +
			"(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 " +
			"md/GOOS#linux md/GOARCH#amd64 api/sts#1.26.5",
		want: SDK{ID: "go-v2", Name: "AWS SDK for Go v2", Version: "1.24.0", VersionOf: "github.com/aws/aws-sdk-go-v2 (core module)"},
	},
	{
		// composed: a Go v2 client for EKS Auth, as an agent calling
		// AssumeRoleForPodIdentity uses (aws/middleware/user_agent.go;
		// api/ is the service module's id and version).
		name:      "go v2 eks auth caller",
		userAgent: "aws-sdk-go-v2/1.24.1 ua/2.0 os/linux lang/go#1.21.6 md/GOOS#linux md/GOARCH#amd64 api/eksauth#1.0.0",
		want:      SDK{ID: "go-v2", Name: "AWS SDK for Go v2", Version: "1.24.1", VersionOf: "github.com/aws/aws-sdk-go-v2 (core module)"},
	},
	// Go v1.
	{
		// captured: aws-sdk-go v1.47.11 calling AssumeRoleWithWebIdentity
		// (aws/request/handlers.go MakeAddToUserAgentHandler,
		// aws/corehandlers/user_agent.go).
		name:      "go v1",
		userAgent: "aws-sdk-go/1.47.11 (go1.26.8; linux; amd64)",
		want:      SDK{ID: "go-v1", Name: "AWS SDK for Go v1", Version: "1.47.11", VersionOf: "github.com/aws/aws-sdk-go"},
	},
	{
		// composed: a controller's own product token pushed in front of the
		// SDK's, as kubernetes-sigs/aws-load-balancer-controller's
		// injectUserAgent does with request.MakeAddToUserAgentHandler, and
		// the SDK's exec-env (aws/corehandlers/user_agent.go
		// AddHostExecEnvUserAgentHander).
		name:      "go v1 wrapped by a controller",
		userAgent: "elbv2.k8s.aws/v2.4.5 aws-sdk-go/1.44.114 (go1.19.2; linux; amd64) exec-env/AWS_ECS_EC2",
		want:      SDK{ID: "go-v1", Name: "AWS SDK for Go v1", Version: "1.44.114", VersionOf: "github.com/aws/aws-sdk-go"},
	},
	// boto3 and botocore.
	{
		// quoted: https://github.com/boto/botocore/issues/2318 (expected form).
		name:      "boto3 legacy format with user_agent_extra",
		userAgent: "Boto3/1.17.18 Python/3.9.2 Darwin/18.7.0 Botocore/1.20.18 my_user_agent/2.5.0",
		want:      SDK{ID: "boto3", Name: "AWS SDK for Python (Boto3)", Version: "1.20.18", VersionOf: "botocore", ProductVersion: "1.17.18"},
	},
	{
		// quoted: https://github.com/boto/botocore/issues/2318 (what
		// CloudTrail recorded: the list bug put brackets around it).
		name:      "boto3 legacy format in brackets",
		userAgent: "[Boto3/1.17.18 Python/3.9.2 Darwin/18.7.0 Botocore/1.20.18 my_user_agent/2.5.0]",
		want:      SDK{ID: "boto3", Name: "AWS SDK for Python (Boto3)", Version: "1.20.18", VersionOf: "botocore", ProductVersion: "1.17.18"},
	},
	{
		// composed: botocore's legacy format (botocore/useragent.py
		// _build_legacy_ua_string) at the IRSA minimums.
		name:      "boto3 legacy format at the irsa minimum",
		userAgent: "Boto3/1.9.220 Python/3.7.4 Linux/4.14 Botocore/1.12.200",
		want:      SDK{ID: "boto3", Name: "AWS SDK for Python (Boto3)", Version: "1.12.200", VersionOf: "botocore", ProductVersion: "1.9.220"},
	},
	{
		// composed: botocore/useragent.py (ua/2.0 format, with the legacy
		// Botocore/x kept at the end when a session names itself Boto3).
		// Boto3 and botocore minor versions differ, as they did before 1.34.
		name: "boto3 ua/2.0 format",
		userAgent: "Boto3/1.28.62 md/Botocore#1.31.62 ua/2.0 os/linux#5.10.198-187.748.amzn2.x86_64 md/arch#x86_64 " +
			"lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.62",
		want: SDK{ID: "boto3", Name: "AWS SDK for Python (Boto3)", Version: "1.31.62", VersionOf: "botocore", ProductVersion: "1.28.62"},
	},
	{
		// composed: botocore/useragent.py with exec-env (AWS_EXECUTION_ENV).
		name: "boto3 ua/2.0 at the pod identity minimum",
		userAgent: "Boto3/1.34.41 md/Botocore#1.34.41 ua/2.0 os/linux#5.10.205 md/arch#x86_64 lang/python#3.12.1 " +
			"md/pyimpl#CPython exec-env/AWS_ECS_FARGATE cfg/retry-mode#legacy Botocore/1.34.41",
		want: SDK{ID: "boto3", Name: "AWS SDK for Python (Boto3)", Version: "1.34.41", VersionOf: "botocore", ProductVersion: "1.34.41"},
	},
	{
		// captured: boto3 1.43.11 with botocore 1.43.11 calling
		// AssumeRoleWithWebIdentity (botocore/useragent.py, ua/2.1).
		name: "boto3 ua/2.1",
		userAgent: "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v1045 md/arch#x86_64 " +
			"lang/python#3.11.7 md/pyimpl#CPython m/N,Z,D,g,b cfg/retry-mode#legacy Botocore/1.43.11",
		want: SDK{ID: "boto3", Name: "AWS SDK for Python (Boto3)", Version: "1.43.11", VersionOf: "botocore", ProductVersion: "1.43.11"},
	},
	{
		// captured: a botocore 1.43.11 session without boto3.
		name:      "botocore ua/2.1",
		userAgent: "Botocore/1.43.11 ua/2.1 os/linux#6.18.44-fc-v1045 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/N,Z,D,g,b cfg/retry-mode#legacy",
		want:      SDK{ID: "botocore", Name: "AWS SDK for Python (botocore)", Version: "1.43.11", VersionOf: "botocore"},
	},
	{
		// composed: a plain botocore session, botocore/useragent.py.
		name:      "botocore alone",
		userAgent: "Botocore/1.34.40 ua/2.0 os/linux#6.1.72 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy",
		want:      SDK{ID: "botocore", Name: "AWS SDK for Python (botocore)", Version: "1.34.40", VersionOf: "botocore"},
	},
	// AWS CLI.
	{
		// quoted: https://github.com/aws/aws-sdk-java/issues/3062
		// (`aws --version` in a pod with Pod Identity).
		name:      "aws cli v1 legacy format",
		userAgent: "aws-cli/1.31.5 Python/3.10.12 Linux/5.10.198-187.748.amzn2.x86_64 botocore/1.33.5",
		want:      SDK{ID: "aws-cli-v1", Name: "AWS CLI v1", Version: "1.31.5", VersionOf: "aws-cli"},
	},
	{
		// composed: botocore/useragent.py as aws-cli v1 drives it
		// (md/Botocore# plus the legacy lowercase botocore/x).
		name: "aws cli v1 ua/2.0 format",
		userAgent: "aws-cli/1.29.99 md/Botocore#1.31.99 ua/2.0 os/linux#5.10.198 md/arch#x86_64 lang/python#3.11.6 " +
			"md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.31.99",
		want: SDK{ID: "aws-cli-v1", Name: "AWS CLI v1", Version: "1.29.99", VersionOf: "aws-cli"},
	},
	{
		// captured: aws-cli 1.45.11 (botocore 1.43.11) running
		// `aws sts get-caller-identity`.
		name: "aws cli v1 ua/2.1",
		userAgent: "aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v1045 md/arch#x86_64 " +
			"lang/python#3.11.7 md/pyimpl#CPython m/b,Z,N,D,g cfg/retry-mode#legacy botocore/1.43.11",
		want: SDK{ID: "aws-cli-v1", Name: "AWS CLI v1", Version: "1.45.11", VersionOf: "aws-cli"},
	},
	{
		// composed: aws-cli v2 awscli/clidriver.py before ua/2.0 (exe/,
		// prompt/ and command/ appended to user_agent_extra), CloudShell's
		// exec-env.
		name: "aws cli v2 legacy format",
		userAgent: "aws-cli/2.13.5 Python/3.11.4 Linux/4.14.255-314-253.539.amzn2.x86_64 exec-env/CloudShell " +
			"exe/x86_64.amzn.2 prompt/off command/ec2.start-instances",
		want: SDK{ID: "aws-cli-v2", Name: "AWS CLI v2", Version: "2.13.5", VersionOf: "aws-cli"},
	},
	{
		// composed: aws-cli v2 awscli/botocore/useragent.py and
		// awscli/clidriver.py (md/installer, md/distrib, md/prompt,
		// md/command), 2.22.18.
		name: "aws cli v2 ua/2.0 format",
		userAgent: "aws-cli/2.22.18 md/awscrt#0.23.4 ua/2.0 os/linux#6.1.119-129.201.amzn2023.x86_64 md/arch#x86_64 " +
			"lang/python#3.12.6 md/pyimpl#CPython exec-env/CloudShell cfg/retry-mode#standard md/installer#exe " +
			"md/distrib#amzn.2023 md/prompt#off md/command#sts.get-caller-identity",
		want: SDK{ID: "aws-cli-v2", Name: "AWS CLI v2", Version: "2.22.18", VersionOf: "aws-cli"},
	},
	// Java.
	{
		// composed: aws-java-sdk-core VersionInfoUtils.java userAgent()
		// (platform/version, OS, VM, java/, vendor/) with cfg/retry-mode.
		name: "java v1",
		userAgent: "aws-sdk-java/1.12.277 Linux/5.4.204-124.362.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.342-b07 " +
			"java/1.8.0_342 vendor/Oracle_Corporation cfg/retry-mode/legacy",
		want: SDK{ID: "java-v1", Name: "AWS SDK for Java 1.x", Version: "1.12.277", VersionOf: "aws-sdk-java"},
	},
	{
		// composed: the Java v1 format (VersionInfoUtils.java adds scala/x
		// when Scala is on the classpath) inside Spark, with Hadoop's S3A
		// suffix.
		name: "java v1 wrapped by spark and hadoop",
		userAgent: "aws-sdk-java/1.12.262 Linux/5.10.184-175.749.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b07 " +
			"java/1.8.0_372 scala/2.12.15 vendor/Amazon.com_Inc. cfg/retry-mode/legacy Hadoop 3.3.3-amzn-3",
		want: SDK{ID: "java-v1", Name: "AWS SDK for Java 1.x", Version: "1.12.262", VersionOf: "aws-sdk-java"},
	},
	{
		// quoted: https://github.com/aws/aws-durable-execution-sdk-java/pull/160
		// (ua/2.1 format with a library suffix).
		name: "java v2 ua/2.1",
		userAgent: "aws-sdk-java/2.42.6 md/io#sync md/http#Apache ua/2.1 api/Lambda#2.42.x " +
			"os/Linux#5.10.247-280.992.amzn2.aarch64 lang/java#17.0.18 md/OpenJDK_64-Bit_Server_VM#17.0.18+8-LTS " +
			"md/vendor#Amazon.com_Inc. md/en_US exec-env/AWS_Lambda_java17 m/D,g @aws/durable-execution-sdk-java/0.6.0-SNAPSHOT",
		want: SDK{ID: "java-v2", Name: "AWS SDK for Java 2.x", Version: "2.42.6", VersionOf: "aws-sdk-java"},
	},
	{
		// quoted: https://github.com/aws/aws-sdk-java-v2/pull/7288 (a
		// snapshot build: a pre-release version).
		name: "java v2 snapshot",
		userAgent: "aws-sdk-java/2.51.4-SNAPSHOT os/Mac_OS_X#56.7.8 lang/java#19.0.20.1 " +
			"md/OpenJDK_64-Bit_Server_VM#11.0.20.1+9-LTS md/vendor#Some.com_Inc. md/en_US ft/warmup",
		want: SDK{ID: "java-v2", Name: "AWS SDK for Java 2.x", Version: "2.51.4-SNAPSHOT", VersionOf: "aws-sdk-java"},
	},
	{
		// composed: core/sdk-core SdkUserAgent.java before ua/2.0
		// (platform/version, OS, VM, Java/, vendor/), io/ and http/ from
		// the client.
		name: "java v2 legacy format",
		userAgent: "aws-sdk-java/2.21.30 Linux/5.10.199-190.747.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS " +
			"Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
		want: SDK{ID: "java-v2", Name: "AWS SDK for Java 2.x", Version: "2.21.30", VersionOf: "aws-sdk-java"},
	},
	// JavaScript.
	{
		// captured: aws-sdk 2.1550.0 (npm) in Node.js 20 calling
		// assumeRoleWithWebIdentity().promise() (lib/util.js userAgent).
		name:      "js v2 captured",
		userAgent: "aws-sdk-nodejs/2.1550.0 linux/v20.20.2 promise",
		want:      SDK{ID: "js-v2", Name: "AWS SDK for JavaScript v2", Version: "2.1550.0", VersionOf: "aws-sdk (npm)"},
	},
	{
		// captured: @aws-sdk/client-sts 3.458.0 in Node.js 20 sending
		// AssumeRoleWithWebIdentityCommand (packages/util-user-agent-node).
		name:      "js v3 captured",
		userAgent: "aws-sdk-js/3.458.0 ua/2.0 os/linux#6.18.44-fc-v1045 lang/js md/nodejs#20.20.2 api/sts#3.458.0",
		want:      SDK{ID: "js-v3", Name: "AWS SDK for JavaScript v3", Version: "3.458.0", VersionOf: "@aws-sdk client package"},
	},
	{
		// composed: aws-sdk-js lib/util.js userAgent() with exec-env
		// (https://github.com/aws/aws-sdk-js/pull/1264) and the call style
		// (https://github.com/aws/aws-sdk-js/pull/1351).
		name:      "js v2 nodejs",
		userAgent: "aws-sdk-nodejs/2.1550.0 linux/v18.19.0 exec-env/AWS_ECS_EC2 callback",
		want:      SDK{ID: "js-v2", Name: "AWS SDK for JavaScript v2", Version: "2.1550.0", VersionOf: "aws-sdk (npm)"},
	},
	{
		// composed: lib/util.js in a browser build, where the environment
		// is "js" and no engine is added.
		name:      "js v2 browser",
		userAgent: "aws-sdk-js/2.1549.0 promise",
		want:      SDK{ID: "js-v2", Name: "AWS SDK for JavaScript v2", Version: "2.1549.0", VersionOf: "aws-sdk (npm)"},
	},
	{
		// composed: lib/util.js with the AWS CDK's suffix.
		name:      "js v2 wrapped by the cdk",
		userAgent: "aws-sdk-nodejs/2.1586.0 linux/v20.15.1 aws-cdk/2.135.0 promise",
		want:      SDK{ID: "js-v2", Name: "AWS SDK for JavaScript v2", Version: "2.1586.0", VersionOf: "aws-sdk (npm)"},
	},
	{
		// quoted: https://github.com/aws/aws-sdk-js-v3/pull/1775 (the
		// first standard format, a release candidate).
		name: "js v3 release candidate",
		userAgent: "aws-sdk-js/3.0.0-rc.9 os/linux/4.14.200-155.322.amzn2.x86_64 lang/js md/nodejs/12.14.0 " +
			"api/iam/3.0.0-rc.9 cfg/retry-mode/standard",
		want: SDK{ID: "js-v3", Name: "AWS SDK for JavaScript v3", Version: "3.0.0-rc.9", VersionOf: "@aws-sdk client package"},
	},
	{
		// composed: packages/util-user-agent-node defaultUserAgent
		// (aws-sdk-js/clientVersion, os/, lang/js, md/nodejs#, api/).
		name:      "js v3 ua/2.0",
		userAgent: "aws-sdk-js/3.458.0 ua/2.0 os/linux#5.10.198-187.748.amzn2.x86_64 lang/js md/nodejs#18.18.2 api/sts#3.458.0",
		want:      SDK{ID: "js-v3", Name: "AWS SDK for JavaScript v3", Version: "3.458.0", VersionOf: "@aws-sdk client package"},
	},
	// .NET.
	{
		// quoted: https://github.com/aws/aws-sdk-net-extensions-cognito/pull/15.
		name: "dotnet coreclr",
		userAgent: "aws-sdk-dotnet-coreclr/3.3.5.0 aws-sdk-dotnet-core/3.3.17.4 .NET_Core/4.6.26614.01 " +
			"OS/Microsoft_Windows_10.0.15063 ClientAsync AWSDotNetCognito/1.0.0.0",
		want: SDK{ID: "dotnet", Name: "AWS SDK for .NET", Version: "3.3.17.4", VersionOf: "AWSSDK.Core", ProductVersion: "3.3.5.0"},
	},
	{
		// quoted: https://github.com/aws/aws-dotnet-deploy/pull/88.
		name: "dotnet netstandard with exec-env",
		userAgent: "aws-sdk-dotnet-netstandard/3.5.2.27 aws-sdk-dotnet-core/3.5.2.9 .NET_Core/3.1.12 " +
			"OS/Microsoft_Windows_10.0.18363 exec-env/aws-dotnet-deploy-cli_0.1.1 ClientAsync Paginator",
		want: SDK{ID: "dotnet", Name: "AWS SDK for .NET", Version: "3.5.2.9", VersionOf: "AWSSDK.Core", ProductVersion: "3.5.2.27"},
	},
	{
		// quoted: https://github.com/aws/aws-sdk-net/issues/932 (the
		// header as the signer's canonical request shows it, with commas).
		name:      "dotnet with commas",
		userAgent: "aws-sdk-dotnet-coreclr/3.3.3.5, aws-sdk-dotnet-core/3.3.21.19, .NET_Core/4.6.26406.07, OS/Microsoft_Windows_10.0.16299, ClientAsync",
		want:      SDK{ID: "dotnet", Name: "AWS SDK for .NET", Version: "3.3.21.19", VersionOf: "AWSSDK.Core", ProductVersion: "3.3.3.5"},
	},
	// Ruby.
	{
		// composed: gems/aws-sdk-core/lib/aws-sdk-core/plugins/user_agent.rb
		// (aws-sdk-ruby3/CORE_GEM_VERSION, ua/2.1, api/, os/, lang/).
		name:      "ruby ua/2.1",
		userAgent: "aws-sdk-ruby3/3.201.0 ua/2.1 api/sts#1.11.0 os/linux#6.1 md/x86_64 lang/ruby#3.3.0 md/3.3.0 m/D",
		want:      SDK{ID: "ruby", Name: "AWS SDK for Ruby", Version: "3.201.0", VersionOf: "aws-sdk-core (gem)"},
	},
	{
		// composed: the format plugins/user_agent.rb replaced (its comments:
		// "Used to be gem_name/gem_version", "Used to be RUBY_PLATFORM",
		// "Used to be RUBY_ENGINE/RUBY_VERSION"); STS lives in aws-sdk-core.
		name:      "ruby legacy format",
		userAgent: "aws-sdk-ruby3/3.91.1 ruby/2.7.0 x86_64-linux aws-sdk-core/3.91.1",
		want:      SDK{ID: "ruby", Name: "AWS SDK for Ruby", Version: "3.91.1", VersionOf: "aws-sdk-core (gem)"},
	},
	// PHP.
	{
		// composed: aws-sdk-php's user agent with OS and language
		// (https://github.com/aws/aws-sdk-php/pull/2259) and Guzzle's token.
		name:      "php",
		userAgent: "aws-sdk-php/3.297.1 OS/Linux#5.10.25-linuxkit lang/php#8.2.15 GuzzleHttp/7",
		want:      SDK{ID: "php", Name: "AWS SDK for PHP", Version: "3.297.1", VersionOf: "aws/aws-sdk-php"},
	},
	// C++.
	{
		// composed: src/aws-cpp-sdk-core/source/client/ClientConfiguration.cpp
		// ComputeUserAgentString (aws-sdk-cpp/version, OS, arch, compiler).
		name:      "cpp",
		userAgent: "aws-sdk-cpp/1.7.176 Linux/3.10.0-957.27.2.el7.x86_64 x86_64 GCC/8.3.1",
		want:      SDK{ID: "cpp", Name: "AWS SDK for C++", Version: "1.7.176", VersionOf: "aws-sdk-cpp"},
	},
	// Kotlin and Rust.
	{
		// composed: the SDK user agent format (name/version, ua/2.0, api/,
		// os/, lang/) as awslabs/aws-sdk-kotlin builds it.
		name:      "kotlin",
		userAgent: "aws-sdk-kotlin/1.0.1 ua/2.0 api/sts#1.0.1 os/linux#5.10 lang/kotlin#1.9.20 md/javaVersion#17.0.9",
		want:      SDK{ID: "kotlin", Name: "AWS SDK for Kotlin", Version: "1.0.1", VersionOf: "aws-sdk-kotlin"},
	},
	{
		// composed: smithy-rs aws-runtime user_agent.rs AwsUserAgent
		// (aws-sdk-rust/version, os/, lang/rust/).
		name:      "rust",
		userAgent: "aws-sdk-rust/1.1.8 os/linux lang/rust/1.76.0",
		want:      SDK{ID: "rust", Name: "AWS SDK for Rust", Version: "1.1.8", VersionOf: "aws-sdk-rust"},
	},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Parse(tc.userAgent)
			if !ok {
				t.Fatalf("Parse(%q) not ok", tc.userAgent)
			}
			if got != tc.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.userAgent, got, tc.want)
			}
		})
	}
}

// Strings Parse must refuse: none of them says which SDK made the call.
func TestParseUnknown(t *testing.T) {
	cases := map[string]string{
		"empty":        "",
		"blank":        "   \t ",
		"curl":         "curl/7.88.1",
		"browser":      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"garbage":      "\x00\xff//##  ]][[ 🙂",
		"console":      "console.amazonaws.com",
		"aws service":  "eks.amazonaws.com",
		"aws internal": "AWS Internal",
		// boto 2 is not boto3: it never read the web identity token file.
		"boto2":                    "Boto/2.49.0 Python/2.7.18 Linux/5.4.0",
		"terraform only":           "APN/1.0 HashiCorp/1.0 Terraform/1.5.0 (+https://www.terraform.io)",
		"name without version":     "aws-sdk-go-v2",
		"empty version":            "aws-sdk-go-v2/ os/linux",
		"word for a version":       "aws-sdk-go/latest (go1.21; linux; amd64)",
		"trailing dot":             "aws-sdk-java/1.12. Linux/5.10",
		"unknown cli major":        "aws-cli/3.0.0 Python/3.13",
		"unknown java major":       "aws-sdk-java/3.0.0 Linux/6.1",
		"js v1":                    "aws-sdk-nodejs/1.18.0 linux/v0.10",
		"two sdks":                 "aws-sdk-go/1.44.0 (go1.19; linux; amd64) aws-sdk-go-v2/1.17.0 os/linux",
		"two versions of one":      "aws-sdk-go-v2/1.24.0 os/linux aws-sdk-go-v2/1.25.0",
		"boto3 without botocore":   "Boto3/1.34.41 Python/3.11",
		"boto3 with two botocores": "Boto3/1.34.41 md/Botocore#1.34.41 ua/2.0 Botocore/1.34.40",
		"cli and boto3":            "aws-cli/1.32.0 Boto3/1.34.0 botocore/1.34.0",
		"dotnet without core":      "aws-sdk-dotnet-45/2.3.55.2 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_6.2.9200.0",
		"very long":                "aws-sdk-go-v2/1.24.0 " + strings.Repeat("md/x#y ", maxUserAgentBytes/7+1),
	}
	for name, userAgent := range cases {
		t.Run(name, func(t *testing.T) {
			if got, ok := Parse(userAgent); ok {
				t.Errorf("Parse(%q) = %+v, want not ok", userAgent, got)
			}
		})
	}
}

func TestMinimum(t *testing.T) {
	cases := []struct {
		id        string
		mechanism Mechanism
		want      string
		known     bool
	}{
		{"go-v2", IRSA, "0.0.0", true},
		{"go-v2", PodIdentity, "1.22.2", true},
		{"boto3", IRSA, "1.12.200", true},
		{"aws-cli-v2", IRSA, "2.0.0", true},
		{"dotnet", IRSA, "3.3.104.14", true},
		{"dotnet", PodIdentity, "3.7.302.0", true},
		{"kotlin", IRSA, "", false},
		{"kotlin", PodIdentity, "1.0.1", true},
		{"rust", PodIdentity, "", false},
		{"nosuchsdk", IRSA, "", false},
		{"java-v2", Mechanism(0), "", false},
	}
	for _, tc := range cases {
		got, known := Minimum(tc.id, tc.mechanism)
		if got != tc.want || known != tc.known {
			t.Errorf("Minimum(%q, %v) = %q, %v; want %q, %v", tc.id, tc.mechanism, got, known, tc.want, tc.known)
		}
	}
}

// Every SDK id has a name and every minimum in the table is a version, so a
// typo in the table fails here rather than as "unknown" at run time.
func TestTableIsWellFormed(t *testing.T) {
	for id, info := range sdks {
		if info.name == "" || info.versionOf == "" {
			t.Errorf("%s: missing name or versionOf", id)
		}
		for _, minimum := range []string{info.irsa, info.podIdentity} {
			if minimum != "" && !validVersion(minimum) {
				t.Errorf("%s: minimum %q is not a version", id, minimum)
			}
		}
	}
}

// Below, at and above the minimum for both mechanisms, for every SDK with a
// minimum, through Parse so the version compared is the one the user agent
// carries.
func TestAtLeast(t *testing.T) {
	cases := []struct {
		name      string
		userAgent string
		mechanism Mechanism
		want      bool
		minimum   string
	}{
		// Go v1: web identity from 1.23.13, Pod Identity from 1.47.11.
		// Captured from aws-sdk-go v1.23.12, v1.23.13 and v1.47.11.
		{"go v1 below irsa", "aws-sdk-go/1.23.12 (go1.26.8; linux; amd64)", IRSA, false, "1.23.13"},
		{"go v1 at irsa", "aws-sdk-go/1.23.13 (go1.26.8; linux; amd64)", IRSA, true, "1.23.13"},
		{"go v1 above irsa", "aws-sdk-go/1.100.0 (go1.22; linux; amd64)", IRSA, true, "1.23.13"},
		{"go v1 below pod identity", "aws-sdk-go/1.47.10 (go1.21.4; linux; amd64)", PodIdentity, false, "1.47.11"},
		{"go v1 at pod identity", "aws-sdk-go/1.47.11 (go1.26.8; linux; amd64)", PodIdentity, true, "1.47.11"},
		{"go v1 above pod identity, 1.55 > 1.47", "aws-sdk-go/1.55.5 (go1.22.5; linux; amd64)", PodIdentity, true, "1.47.11"},
		// Go v2: every version for IRSA; the core module of release-2023-11-14 for Pod Identity.
		{"go v2 pre-1.0 irsa", "aws-sdk-go-v2/0.24.0 os/linux lang/go/1.14", IRSA, true, "0.0.0"},
		{"go v2 below pod identity", "aws-sdk-go-v2/1.22.1 os/linux lang/go#1.21.3 md/GOOS#linux md/GOARCH#amd64 api/sts#1.25.0", PodIdentity, false, "1.22.2"},
		// Captured from aws-sdk-go-v2 v1.22.2 and v1.47.7.
		{"go v2 at pod identity", "aws-sdk-go-v2/1.22.2 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sts#1.25.1", PodIdentity, true, "1.22.2"},
		{"go v2 above pod identity", "aws-sdk-go-v2/1.47.7 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sts#1.51.8", PodIdentity, true, "1.22.2"},
		// boto3 is judged by botocore.
		{"boto3 botocore below irsa", "Boto3/1.9.199 Python/3.7.4 Linux/4.14 Botocore/1.12.199", IRSA, false, "1.12.200"},
		{"boto3 botocore at irsa", "Boto3/1.9.220 Python/3.7.4 Linux/4.14 Botocore/1.12.200", IRSA, true, "1.12.200"},
		{"boto3 old boto3 newer botocore", "Boto3/1.9.200 Python/3.7.4 Linux/4.14 Botocore/1.12.250", IRSA, true, "1.12.200"},
		{"boto3 below pod identity", "Boto3/1.34.40 md/Botocore#1.34.40 ua/2.0 os/linux lang/python#3.11.6 Botocore/1.34.40", PodIdentity, false, "1.34.41"},
		{"boto3 at pod identity", "Boto3/1.34.41 md/Botocore#1.34.41 ua/2.0 os/linux lang/python#3.11.6 Botocore/1.34.41", PodIdentity, true, "1.34.41"},
		{"boto3 1.28 with botocore 1.31 below pod identity", "Boto3/1.28.62 md/Botocore#1.31.62 ua/2.0 os/linux lang/python#3.11.6 Botocore/1.31.62", PodIdentity, false, "1.34.41"},
		{"botocore above pod identity", "Botocore/1.35.0 ua/2.0 os/linux lang/python#3.12", PodIdentity, true, "1.34.41"},
		// AWS CLI.
		{"cli v1 below irsa", "aws-cli/1.16.231 Python/3.7.4 Linux/4.14 botocore/1.12.221", IRSA, false, "1.16.232"},
		{"cli v1 at irsa", "aws-cli/1.16.232 Python/3.7.4 Linux/4.14 botocore/1.12.222", IRSA, true, "1.16.232"},
		{"cli v1 below pod identity", "aws-cli/1.29.99 md/Botocore#1.31.99 ua/2.0 os/linux lang/python#3.11 botocore/1.31.99", PodIdentity, false, "1.30.0"},
		{"cli v1 above pod identity", "aws-cli/1.31.5 Python/3.10.12 Linux/5.10.198-187.748.amzn2.x86_64 botocore/1.33.5", PodIdentity, true, "1.30.0"},
		{"cli v2 dev preview below irsa", "aws-cli/2.0.0dev3 Python/3.7.3 Linux/4.19.76-linuxkit botocore/2.0.0dev2", IRSA, false, "2.0.0"},
		{"cli v2 at irsa", "aws-cli/2.0.0 Python/3.7.3 Linux/4.14 botocore/2.0.0dev4", IRSA, true, "2.0.0"},
		{"cli v2 below pod identity", "aws-cli/2.14.6 Python/3.11.6 Linux/5.10 exe/x86_64.amzn.2 prompt/off command/sts.get-caller-identity", PodIdentity, false, "2.15.0"},
		{"cli v2 at pod identity", "aws-cli/2.15.0 Python/3.11.6 Linux/5.10 exe/x86_64.amzn.2 prompt/off command/sts.get-caller-identity", PodIdentity, true, "2.15.0"},
		// Java.
		{"java v1 below irsa", "aws-sdk-java/1.12.781 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS java/17.0.9 vendor/Amazon.com_Inc.", IRSA, false, "1.12.782"},
		{"java v1 at irsa", "aws-sdk-java/1.12.782 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS java/17.0.9 vendor/Amazon.com_Inc.", IRSA, true, "1.12.782"},
		{"java v1 1.11 below irsa", "aws-sdk-java/1.11.704 Linux/4.14 OpenJDK_64-Bit_Server_VM/25.232-b09 java/1.8.0_232 vendor/Oracle_Corporation", IRSA, false, "1.12.782"},
		{"java v1 below pod identity", "aws-sdk-java/1.12.745 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS java/17.0.9 vendor/Amazon.com_Inc.", PodIdentity, false, "1.12.746"},
		{"java v1 at pod identity", "aws-sdk-java/1.12.746 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS java/17.0.9 vendor/Amazon.com_Inc.", PodIdentity, true, "1.12.746"},
		{"java v2 below irsa", "aws-sdk-java/2.10.10 Linux/4.14 OpenJDK_64-Bit_Server_VM/11.0.5+10 Java/11.0.5 vendor/Oracle_Corporation io/sync http/Apache", IRSA, false, "2.10.11"},
		{"java v2 at irsa", "aws-sdk-java/2.10.11 Linux/4.14 OpenJDK_64-Bit_Server_VM/11.0.5+10 Java/11.0.5 vendor/Oracle_Corporation io/sync http/Apache", IRSA, true, "2.10.11"},
		{"java v2 below pod identity, 2.21.29", "aws-sdk-java/2.21.29 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache", PodIdentity, false, "2.21.30"},
		{"java v2 at pod identity", "aws-sdk-java/2.21.30 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache", PodIdentity, true, "2.21.30"},
		{"java v2 snapshot of a later release", "aws-sdk-java/2.51.4-SNAPSHOT os/Mac_OS_X#56.7.8 lang/java#19.0.20.1 ft/warmup", PodIdentity, true, "2.21.30"},
		// JavaScript.
		{"js v2 below irsa", "aws-sdk-nodejs/2.524.0 linux/v10.16.3 callback", IRSA, false, "2.525.0"},
		{"js v2 at irsa", "aws-sdk-nodejs/2.525.0 linux/v10.16.3 callback", IRSA, true, "2.525.0"},
		{"js v2 below pod identity, 2.1549 < 2.1550", "aws-sdk-nodejs/2.1549.0 linux/v18.19.0 promise", PodIdentity, false, "2.1550.0"},
		{"js v2 at pod identity, captured", "aws-sdk-nodejs/2.1550.0 linux/v20.20.2 promise", PodIdentity, true, "2.1550.0"},
		{"js v3 release candidate below irsa", "aws-sdk-js/3.0.0-rc.9 os/linux/4.14.200 lang/js md/nodejs/12.14.0 api/iam/3.0.0-rc.9", IRSA, false, "3.27.0"},
		{"js v3 at irsa", "aws-sdk-js/3.27.0 os/linux/4.14 lang/js md/nodejs/14.17.5 api/sts/3.27.0", IRSA, true, "3.27.0"},
		{"js v3 below pod identity", "aws-sdk-js/3.457.0 ua/2.0 os/linux#5.10 lang/js md/nodejs#18.18.2 api/sts#3.457.0", PodIdentity, false, "3.458.0"},
		{"js v3 at pod identity, captured", "aws-sdk-js/3.458.0 ua/2.0 os/linux#6.18.44-fc-v1045 lang/js md/nodejs#20.20.2 api/sts#3.458.0", PodIdentity, true, "3.458.0"},
		// .NET, judged by AWSSDK.Core.
		{"dotnet core below irsa", "aws-sdk-dotnet-coreclr/3.3.104.10 aws-sdk-dotnet-core/3.3.104.13 .NET_Core/4.6 OS/Linux ClientAsync", IRSA, false, "3.3.104.14"},
		{"dotnet core at irsa", "aws-sdk-dotnet-coreclr/3.3.104.19 aws-sdk-dotnet-core/3.3.104.14 .NET_Core/4.6 OS/Linux ClientAsync", IRSA, true, "3.3.104.14"},
		{"dotnet core 3.3.17 below irsa", "aws-sdk-dotnet-coreclr/3.3.5.0 aws-sdk-dotnet-core/3.3.17.4 .NET_Core/4.6.26614.01 OS/Microsoft_Windows_10.0.15063 ClientAsync", IRSA, false, "3.3.104.14"},
		{"dotnet core below pod identity", "aws-sdk-dotnet-coreclr/3.7.300.29 aws-sdk-dotnet-core/3.7.301.9 .NET_Core/8.0.0 OS/Linux_5.10 ClientAsync", PodIdentity, false, "3.7.302.0"},
		{"dotnet core at pod identity", "aws-sdk-dotnet-coreclr/3.7.300.29 aws-sdk-dotnet-core/3.7.302.0 .NET_Core/8.0.0 OS/Linux_5.10 ClientAsync", PodIdentity, true, "3.7.302.0"},
		{"dotnet v4 above pod identity", "aws-sdk-dotnet-coreclr/4.0.0.1 aws-sdk-dotnet-core/4.0.0.2 .NET_Core/8.0.0 OS/Linux ClientAsync", PodIdentity, true, "3.7.302.0"},
		// Ruby.
		{"ruby below irsa", "aws-sdk-ruby3/3.57.0 ruby/2.6.3 x86_64-linux aws-sdk-core/3.57.0", IRSA, false, "3.58.0"},
		{"ruby at irsa", "aws-sdk-ruby3/3.58.0 ruby/2.6.3 x86_64-linux aws-sdk-core/3.58.0", IRSA, true, "3.58.0"},
		{"ruby v2 below irsa", "aws-sdk-ruby2/2.11.632 ruby/2.6.3 x86_64-linux", IRSA, false, "3.58.0"},
		{"ruby below pod identity", "aws-sdk-ruby3/3.187.1 ua/2.0 api/sts#1.11.0 os/linux md/x86_64 lang/ruby#3.2.2 md/3.2.2", PodIdentity, false, "3.188.0"},
		{"ruby at pod identity", "aws-sdk-ruby3/3.188.0 ua/2.0 api/sts#1.11.1 os/linux md/x86_64 lang/ruby#3.2.2 md/3.2.2", PodIdentity, true, "3.188.0"},
		// PHP.
		{"php below irsa", "aws-sdk-php/3.110.6 GuzzleHttp/6.3.3 curl/7.29.0 PHP/7.2.22", IRSA, false, "3.110.7"},
		{"php at irsa", "aws-sdk-php/3.110.7 GuzzleHttp/6.3.3 curl/7.29.0 PHP/7.2.22", IRSA, true, "3.110.7"},
		{"php below pod identity", "aws-sdk-php/3.287.0 OS/Linux#5.10 lang/php#8.2.12 GuzzleHttp/7", PodIdentity, false, "3.287.1"},
		{"php above pod identity", "aws-sdk-php/3.297.1 OS/Linux#5.10.25-linuxkit lang/php#8.2.15 GuzzleHttp/7", PodIdentity, true, "3.287.1"},
		// C++.
		{"cpp below irsa", "aws-sdk-cpp/1.7.173 Linux/4.14 x86_64 GCC/7.3.1", IRSA, false, "1.7.174"},
		{"cpp above irsa", "aws-sdk-cpp/1.7.176 Linux/3.10.0-957.27.2.el7.x86_64 x86_64 GCC/8.3.1", IRSA, true, "1.7.174"},
		{"cpp below pod identity", "aws-sdk-cpp/1.11.262 Linux/5.10 x86_64 GCC/11.4.1", PodIdentity, false, "1.11.263"},
		{"cpp at pod identity", "aws-sdk-cpp/1.11.263 Linux/5.10 x86_64 GCC/11.4.1", PodIdentity, true, "1.11.263"},
		// Kotlin.
		{"kotlin below pod identity", "aws-sdk-kotlin/1.0.0 ua/2.0 api/sts#1.0.0 os/linux lang/kotlin#1.9.20", PodIdentity, false, "1.0.1"},
		{"kotlin at pod identity", "aws-sdk-kotlin/1.0.1 ua/2.0 api/sts#1.0.1 os/linux lang/kotlin#1.9.20", PodIdentity, true, "1.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sdk, ok := Parse(tc.userAgent)
			if !ok {
				t.Fatalf("Parse(%q) not ok", tc.userAgent)
			}
			got, minimum, known := AtLeast(sdk, tc.mechanism)
			if !known {
				t.Fatalf("AtLeast(%+v, %v) not known", sdk, tc.mechanism)
			}
			if got != tc.want || minimum != tc.minimum {
				t.Errorf("AtLeast(%+v, %v) = %v, %q; want %v, %q", sdk, tc.mechanism, got, minimum, tc.want, tc.minimum)
			}
		})
	}
}

func TestAtLeastUnknown(t *testing.T) {
	cases := []struct {
		name      string
		sdk       SDK
		mechanism Mechanism
	}{
		{"no irsa minimum for rust", SDK{ID: "rust", Version: "1.1.8"}, IRSA},
		{"no pod identity minimum for rust", SDK{ID: "rust", Version: "1.1.8"}, PodIdentity},
		{"unknown id", SDK{ID: "fortran", Version: "1.0.0"}, IRSA},
		{"version not a version", SDK{ID: "go-v2", Version: "dev"}, PodIdentity},
		{"zero sdk", SDK{}, IRSA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if ok, _, known := AtLeast(tc.sdk, tc.mechanism); known || ok {
				t.Errorf("AtLeast(%+v, %v) = ok %v known %v, want neither", tc.sdk, tc.mechanism, ok, known)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.10", "1.9", 1},
		{"1.9", "1.10", -1},
		{"1.2", "1.2.0", 0},
		{"1.2.0.0", "1.2", 0},
		{"v1.47.11", "1.47.11", 0},
		{"V1.47.12", "v1.47.11", 1},
		{"3.3.659.1", "3.3.659.0", 1},
		{"3.3.104.14", "3.3.659.1", -1},
		{"2.1550.0", "2.525.0", 1},
		{"3.0.0-rc.9", "3.0.0", -1},
		{"3.0.0", "3.0.0-rc.9", 1},
		{"2.0.0dev3", "2.0.0", -1},
		{"2.0.0dev3", "2.0.0dev4", -1},
		{"2.51.4-SNAPSHOT", "2.51.3", 1},
		{"1.2.3+build.7", "1.2.3", 0},
		{"007.1", "7.1", 0},
		{"99999999999999999999999.0", "99999999999999999999998.9", 1},
	}
	for _, tc := range cases {
		got, ok := Compare(tc.a, tc.b)
		if !ok || got != tc.want {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d", tc.a, tc.b, got, ok, tc.want)
		}
	}
	for _, notVersion := range []string{"", "v", "dev", "1.", "1..2", "1.2.", ".1", "1.2,", "1.2 3", "x1.2", "1.2.3.4.5.6.7.8.9"} {
		if _, ok := Compare(notVersion, "1.0"); ok {
			t.Errorf("Compare(%q, 1.0) comparable, want not", notVersion)
		}
	}
}

func TestSDKString(t *testing.T) {
	cases := map[string]string{
		"Boto3/1.28.62 md/Botocore#1.31.62 ua/2.0 os/linux lang/python#3.11.6 Botocore/1.31.62": "AWS SDK for Python (Boto3) 1.28.62 (botocore 1.31.62)",
		"aws-sdk-dotnet-coreclr/3.3.5.0 aws-sdk-dotnet-core/3.3.17.4 .NET_Core/4.6.26614.01":    "AWS SDK for .NET 3.3.5.0 (AWSSDK.Core 3.3.17.4)",
		"aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5":                                          "AWS SDK for Go v2 1.24.0",
	}
	for userAgent, want := range cases {
		sdk, ok := Parse(userAgent)
		if !ok {
			t.Fatalf("Parse(%q) not ok", userAgent)
		}
		if got := sdk.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", userAgent, got, want)
		}
	}
}

func TestMechanismString(t *testing.T) {
	for mechanism, want := range map[Mechanism]string{IRSA: "IRSA", PodIdentity: "EKS Pod Identity", Mechanism(9): "unknown mechanism"} {
		if got := mechanism.String(); got != want {
			t.Errorf("Mechanism(%d).String() = %q, want %q", int(mechanism), got, want)
		}
	}
}

// FuzzParse checks that Parse never panics, is deterministic, and that what
// it accepts is something the rest of the package can use.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.userAgent)
	}
	for _, seed := range []string{"", "curl/7.88.1", "Boto/2.49.0 Python/2.7", "[]", "aws-sdk-go-v2/", "md/Botocore#", "aws-cli/2.0.0dev3"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, userAgent string) {
		first, firstOK := Parse(userAgent)
		second, secondOK := Parse(userAgent)
		if first != second || firstOK != secondOK {
			t.Fatalf("Parse(%q) not deterministic: %+v %v, then %+v %v", userAgent, first, firstOK, second, secondOK)
		}
		if !firstOK {
			if first != (SDK{}) {
				t.Fatalf("Parse(%q) not ok but returned %+v", userAgent, first)
			}
			return
		}
		if _, known := sdks[first.ID]; !known || first.Name == "" || first.VersionOf == "" {
			t.Fatalf("Parse(%q) = %+v: id, name or versionOf missing", userAgent, first)
		}
		if !validVersion(first.Version) {
			t.Fatalf("Parse(%q) = %+v: version is not a version", userAgent, first)
		}
		for _, mechanism := range []Mechanism{IRSA, PodIdentity} {
			if _, minimum, known := AtLeast(first, mechanism); known != (minimum != "") {
				t.Fatalf("AtLeast(%+v, %v): known %v with minimum %q", first, mechanism, known, minimum)
			}
		}
	})
}
