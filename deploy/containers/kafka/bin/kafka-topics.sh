#!/bin/sh
# kafka-topics.sh as in the Kafka distribution (TopicCommand from kafka-tools), for healthchecks and init jobs.
exec java -Xmx256m -XX:TieredStopAtLevel=1 -Xshare:auto -cp '/opt/kafka/libs/*' \
  -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties \
  -Dlog4j.configuration=file:/opt/kafka/config/tools-log4j.properties \
  org.apache.kafka.tools.TopicCommand "$@"
